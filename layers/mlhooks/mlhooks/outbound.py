"""Guarded outbound HTTP: the only way mlhooks calls a user-supplied URL.

The guard refuses non-HTTP schemes, credentials in URLs, IP-literal hosts, `localhost`, and any
host that resolves to a non-public address (loopback, private, link-local and so the cloud metadata
address, multicast, reserved, IPv6 included, IPv4 hidden in IPv6 included). It lives *inside* the
connection: the socket is opened to the very address that was checked, so a name that resolves
differently a moment later (DNS rebinding) cannot slip past, and no caller can forget the check.
An allow-list from configuration opens chosen ranges (local development opens 127.0.0.0/8).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from mlhooks.errors import BlockedDestination, UnresolvableDestination

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

_HOST_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"^{_HOST_LABEL}(\.{_HOST_LABEL})*$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


class OutboundGuard:
    def __init__(self, allow: Iterable[IPNetwork] = (), resolver: Resolver = system_resolver):
        self.allow = tuple(allow)
        self.resolver = resolver

    def allowed_by_configuration(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.allow)

    def blocked_reason(self, ip: IPAddress) -> str | None:
        """Why an address may not be called, or None when it may."""
        if self.allowed_by_configuration(ip):
            return None
        if isinstance(ip, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(ip)
            if embedded is not None:
                reason = self.blocked_reason(embedded)
                return f"it embeds {embedded}, and {reason}" if reason else None
        checks = (
            (ip.is_unspecified, "unspecified"),
            (ip.is_loopback, "loopback"),
            (ip.is_link_local, "link-local (this includes the cloud metadata address)"),
            (ip.is_multicast, "multicast"),
            (ip.is_private, "private"),
            (ip.is_reserved, "reserved"),
            (not ip.is_global, "not publicly routable"),
        )
        for hit, label in checks:
            if hit:
                return f"{ip} is {label}"
        return None

    def check_url(self, url: str) -> Destination:
        """Syntax-level checks, without DNS: what a URL may look like."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise BlockedDestination(f"The URL is malformed: {exc}.", field="url") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise BlockedDestination("Only http and https URLs can be called.", field="url")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise BlockedDestination(
                "URLs with credentials (user@host) are refused; use the webhook's access token.", field="url"
            )
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise BlockedDestination("The URL has no host.", field="url")
        if port is None:
            port = 443 if scheme == "https" else 80
        if port == 0:
            raise BlockedDestination("Port 0 cannot be called.", field="url")
        literal = _ip_literal(host)
        if literal is not None:
            if not self.allowed_by_configuration(literal):
                raise BlockedDestination(
                    "IP-address hosts are refused; use a DNS name that resolves to a public address.",
                    field="url",
                )
        else:
            try:
                host = host.encode("idna").decode("ascii").lower()
            except UnicodeError:
                raise BlockedDestination("The host name is not a valid DNS name.", field="url") from None
            if not _HOSTNAME.match(host):
                raise BlockedDestination("The host name is not a valid DNS name.", field="url")
            if (host == "localhost" or host.endswith(".localhost")) and not self.allow:
                raise BlockedDestination("localhost cannot be called.", field="url")
        if scheme == "http" and not self._all_allowed(host, literal, port):
            raise BlockedDestination(
                "Plain http is only allowed to ranges opened in the configuration; use https.", field="url"
            )
        return Destination(scheme=scheme, host=host, port=port)

    def _all_allowed(self, host: str, literal: IPAddress | None, port: int) -> bool:
        if literal is not None:
            return self.allowed_by_configuration(literal)
        if not self.allow:
            return False
        try:
            addresses = self.resolver(host, port)
        except OSError:
            return False
        return bool(addresses) and all(
            self.allowed_by_configuration(ipaddress.ip_address(a)) for a in addresses
        )

    def resolve(self, host: str, port: int) -> list[str]:
        """Resolve a host and return its addresses, refusing it if any address is blocked."""
        literal = _ip_literal(host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = self.resolver(host, port)
            except OSError as exc:
                raise UnresolvableDestination(
                    f"The host {host} does not resolve ({exc}).", field="url"
                ) from None
        if not addresses:
            raise UnresolvableDestination(f"The host {host} does not resolve.", field="url")
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            reason = self.blocked_reason(ip)
            if reason:
                raise BlockedDestination(
                    f"Requests to this destination are blocked ({host}: {reason}); "
                    "see the outbound allow-list in the configuration.",
                    field="url",
                )
        return addresses

    def check(self, url: str) -> Destination:
        """Everything a webhook URL must pass when it is saved: syntax and resolution."""
        destination = self.check_url(url)
        self.resolve(destination.host, destination.port)
        return destination


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host names literally, in any form a resolver would accept (127.1, 0x7f.1, 2130706433)."""
    candidate = host.strip("[]")
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(candidate))
    except (OSError, ValueError):
        return None


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


@dataclass(frozen=True)
class HttpOutcome:
    status_code: int | None
    headers: dict[str, str]
    body_excerpt: str
    error: str | None
    error_class: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


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

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> HttpOutcome:
        started = time.monotonic()

        def outcome(
            status=None, response_headers=None, excerpt="", error=None, error_class=None
        ) -> HttpOutcome:  # type: ignore[no-untyped-def]
            elapsed = int((time.monotonic() - started) * 1000)
            return HttpOutcome(status, response_headers or {}, excerpt, error, error_class, elapsed)

        try:
            self.guard.check_url(url)
            response = self.session.post(
                url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False, stream=True
            )
        except BlockedDestination as exc:
            return outcome(error=exc.message, error_class="blocked_destination")
        except UnresolvableDestination as exc:
            return outcome(error=exc.message, error_class="unresolvable_destination")
        except requests.Timeout as exc:
            return outcome(error=f"Timed out: {exc.__class__.__name__}", error_class="timeout")
        except requests.ConnectionError as exc:
            return outcome(error=f"Connection failed: {_root_cause(exc)}", error_class="connection_error")
        except requests.RequestException as exc:
            return outcome(error=f"Request failed: {_root_cause(exc)}", error_class="request_error")
        try:
            raw = response.raw.read(self.excerpt_bytes, decode_content=True) or b""
        except Exception as exc:  # a reset while reading the answer still leaves us its status
            raw = f"[could not read the response body: {exc.__class__.__name__}]".encode()
        finally:
            response.close()
        return outcome(
            status=response.status_code,
            response_headers=dict(response.headers),
            excerpt=raw.decode("utf-8", errors="replace"),
        )


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or (exc.args and isinstance(exc.args[0], BaseException)):
        exc = exc.__cause__ or exc.args[0]
    return str(exc)
