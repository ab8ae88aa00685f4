"""The HTTP client for user-supplied URLs: the guard inside every connection, no redirects, no
proxies, bounded reads, and every failure an `Outcome` of its class."""

from __future__ import annotations

import email.message
import time

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from mlhooks.errors import BlockedDestination, UnresolvableDestination
from mlhooks.outbound.guard import OutboundGuard
from mlhooks.outcome import DeliveryError, Outcome

READ_CHUNK = 8192


class _GuardedConnection:
    """Mixed into urllib3's connections: resolve through the guard, connect to a checked address."""

    guard: OutboundGuard

    def _new_conn(self):  # type: ignore[no-untyped-def]
        addresses = self.guard.resolve(self._dns_host, self.port)  # type: ignore[attr-defined]
        error: Exception | None = None
        for address in addresses:
            try:
                return urllib3_connection.create_connection(
                    (address, self.port),  # type: ignore[attr-defined]
                    self.timeout,  # type: ignore[attr-defined]
                    source_address=self.source_address,  # type: ignore[attr-defined]
                    socket_options=self.socket_options,  # type: ignore[attr-defined]
                )
            except TimeoutError as exc:
                error = ConnectTimeoutError(self, f"Connection to {self.host} timed out.")  # type: ignore[attr-defined]
                error.__cause__ = exc
            except OSError as exc:
                error = NewConnectionError(self, f"Failed to establish a new connection: {exc}")
        assert error is not None
        raise error


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, guard: OutboundGuard):
        http_connection = type(
            "GuardedHTTPConnection", (_GuardedConnection, HTTPConnection), {"guard": guard}
        )
        https_connection = type(
            "GuardedHTTPSConnection", (_GuardedConnection, HTTPSConnection), {"guard": guard}
        )
        self._pool_classes = {
            "http": type(
                "GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_connection}
            ),
            "https": type(
                "GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_connection}
            ),
        }
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes


class OutboundClient:
    """POSTs to user-supplied URLs through the guard. Never follows redirects, never uses proxies
    from the environment, reads at most `excerpt_bytes` of an answer."""

    def __init__(
        self,
        guard: OutboundGuard,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        excerpt_bytes: int = 4096,
    ):
        self.guard = guard
        self.timeout = (connect_timeout, read_timeout)
        self.excerpt_bytes = excerpt_bytes
        self.session = requests.Session()
        # Proxies from the environment would connect somewhere the guard never checked.
        self.session.trust_env = False
        adapter = _GuardedAdapter(guard)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def _read(self, response: requests.Response, limit: int, started: float) -> bytes:
        # The whole exchange gets the connect and read timeouts together, and no more.
        return _read_until(response, limit, started + sum(self.timeout))

    def post(self, url: str, body: bytes, headers: dict[str, str], *, read_margin: int = 0) -> Outcome:
        """POST and report what came back, or why nothing did. The answer is read `read_margin` bytes
        past the excerpt size, so that the caller can redact a secret that crosses the cut before
        cutting (see redaction.py). Nothing raised while sending escapes: every failure is an outcome
        of its class, retryable when another attempt may go differently."""
        started = time.monotonic()

        def failed(error_class: DeliveryError, error: str, retryable: bool) -> Outcome:
            elapsed = int((time.monotonic() - started) * 1000)
            return Outcome.failure(error_class, error, retryable=retryable, duration_ms=elapsed)

        try:
            self.guard.check_url(url)
            response = self.session.post(
                url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False, stream=True
            )
        except BlockedDestination as exc:
            return failed(DeliveryError.BLOCKED_DESTINATION, exc.message, retryable=False)
        except UnresolvableDestination as exc:
            return failed(DeliveryError.UNRESOLVABLE_DESTINATION, exc.message, retryable=True)
        except requests.Timeout as exc:
            return failed(DeliveryError.TIMEOUT, f"Timed out: {exc.__class__.__name__}", retryable=True)
        except requests.ConnectionError as exc:
            return failed(DeliveryError.CONNECTION, f"Connection failed: {_root_cause(exc)}", retryable=True)
        except requests.RequestException as exc:
            return failed(DeliveryError.REQUEST, f"Request failed: {_root_cause(exc)}", retryable=False)
        except Exception as exc:
            # Anything else the HTTP stack raises on a request it could not encode (a header value
            # outside latin-1, say) is a failed request, not a crash: the caller redacts the text.
            return failed(DeliveryError.REQUEST, f"Request failed: {exc}", retryable=False)
        try:
            raw = self._read(response, self.excerpt_bytes + read_margin, started)
        except Exception as exc:  # a reset while reading the answer still leaves us its status
            raw = f"[could not read the response body: {exc.__class__.__name__}]".encode()
        finally:
            response.close()
        return Outcome(
            status_code=response.status_code,
            headers=dict(response.headers),
            excerpt=_decoded(raw, response.headers.get("Content-Type")),
            duration_ms=int((time.monotonic() - started) * 1000),
        )


def _decoded(raw: bytes, content_type: str | None) -> str:
    """The answer as text, in the charset its Content-Type declares (UTF-8 when it declares none, or
    one Python does not know): read as UTF-8, a UTF-16 answer would hide every character behind a NUL
    byte, and no form of a secret would match it. (requests' own guess, ISO-8859-1 for any text/*
    answer without a charset, would garble UTF-8 instead.)"""
    message = email.message.Message()
    message["Content-Type"] = content_type or ""
    charset = message.get_content_charset()
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _read_until(response: requests.Response, limit: int, deadline: float) -> bytes:
    """Up to `limit` bytes of the answer, read in chunks until the deadline: the read timeout bounds
    each wait for data, and a receiver that trickles a byte at a time would otherwise hold the
    sender for as long as it likes."""
    chunks, size = [], 0
    while size < limit and time.monotonic() < deadline:
        chunk = response.raw.read(min(READ_CHUNK, limit - size), decode_content=True)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or (exc.args and isinstance(exc.args[0], BaseException)):
        exc = exc.__cause__ or exc.args[0]
    return str(exc)
