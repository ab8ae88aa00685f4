"""Guarded outbound HTTP: the only way mlhooks calls a user-supplied URL.

The guard refuses non-HTTP schemes, credentials in URLs, IP-literal hosts, `localhost`, and any
host that resolves to an address that is not publicly routable: every range IANA's IPv4 and IPv6
special-purpose registries do not mark globally reachable (loopback, private, shared, link-local
and so the cloud metadata address, documentation, benchmarking, ...), multicast, broadcast,
reserved space and IPv6 outside global unicast; IPv4 carried inside IPv6 (mapped, NAT64, 6to4,
Teredo) is judged by the IPv4 it carries. It lives *inside* the connection: the socket is opened
to the very address that was checked, so a name that resolves differently a moment later (DNS
rebinding) cannot slip past, and no caller can forget the check. An allow-list from configuration
opens chosen ranges (local development opens 127.0.0.0/8).

A URL is canonicalised once, when it is saved (`canonical_url`): the host mapped by UTS #46 and
encoded by IDNA 2008 (the `idna` package, as `requests` does), lowercased, without the root's
trailing dot, IP literals in their one canonical spelling, the default port dropped, the rest as
`requests` sends it. At send time only a canonical URL goes out, so the host the guard checks is
the very host urllib3 connects to, not a sibling that another parser derived from the same text.
"""

from __future__ import annotations

import email.message
import ipaddress
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
import requests
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection
from urllib3.util import parse_url

from mlhooks.errors import BlockedDestination, UnresolvableDestination

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]


def _ranges(*rows: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(network), why) for network, why in rows)


# Why tables and not only `ipaddress`'s flags: the flags follow the registry snapshot of the running
# Python, and the 3.12.1 we run calls fec0::/10, 3fff::/20, 64:ff9b:1::/48 and 192.0.0.9 global.
# So every range is named here, from the IANA IPv4 and IPv6 Special-Purpose Address Registries
# (RFC 6890) - each entry not marked globally reachable - plus multicast, broadcast and reserved
# space; the flags are still consulted afterwards, as a second net. First match names the reason.
_REFUSED_IPV4 = _ranges(
    ("0.0.0.0/8", "'this network' (RFC 791), never a destination"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "carrier-grade NAT shared space (RFC 6598)"),
    ("127.0.0.0/8", "loopback (RFC 1122)"),
    ("169.254.0.0/16", "link-local (RFC 3927), where the cloud metadata service answers"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    # The whole /24, with 192.0.0.9 (PCP) and 192.0.0.10 (TURN), which the registry calls globally
    # reachable: those anycasts reach servers inside the caller's own network (RFC 7723, RFC 8155).
    ("192.0.0.0/24", "reserved for IETF protocol assignments (RFC 6890)"),
    ("192.0.2.0/24", "documentation, TEST-NET-1 (RFC 5737)"),
    ("192.88.99.0/24", "the deprecated 6to4 relay anycast (RFC 7526)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("198.51.100.0/24", "documentation, TEST-NET-2 (RFC 5737)"),
    ("203.0.113.0/24", "documentation, TEST-NET-3 (RFC 5737)"),
    ("224.0.0.0/4", "multicast (RFC 5771)"),
    ("255.255.255.255/32", "the limited broadcast address (RFC 919)"),
    ("240.0.0.0/4", "reserved for future use (RFC 1112)"),
)
# Left open on purpose, as the registry marks them globally reachable and they are ordinary public
# servers: AS112 (192.31.196.0/24, 192.175.48.0/24, 2620:4f:8000::/48) and AMT (192.52.193.0/24).
_REFUSED_IPV6 = _ranges(
    ("::/128", "the unspecified address (RFC 4291)"),
    ("::1/128", "loopback (RFC 4291)"),
    # Deprecated forms that spell an IPv4 address but are routed nowhere, so not judged by it.
    ("::/96", "IPv4-compatible, deprecated (RFC 4291)"),
    ("::ffff:0:0:0/96", "IPv4-translated (RFC 2765)"),
    # A local-use NAT64 prefix's length is the operator's choice (RFC 8215, RFC 6052 section 2.2),
    # so where its IPv4 address sits, and which address it is, cannot be known from outside.
    ("64:ff9b:1::/48", "local-use NAT64 (RFC 8215), whose embedded IPv4 address cannot be located"),
    ("100::/64", "discard-only (RFC 6666)"),
    ("100:0:0:1::/64", "the dummy prefix (RFC 9780)"),
    # Benchmarking, ORCHID, AMT, and the PCP, TURN and DNS-SD anycasts of the caller's own network:
    # no webhook lives there. Teredo (2001::/32) is inside, but is judged by the IPv4 it carries.
    ("2001::/23", "reserved for IETF protocol assignments (RFC 2928)"),
    ("2001:db8::/32", "documentation (RFC 3849)"),
    ("3fff::/20", "documentation (RFC 9637)"),
    ("5f00::/16", "SRv6 segment identifiers (RFC 9602)"),
    ("fc00::/7", "unique local, IPv6's private space (RFC 4193), with EC2's metadata fd00:ec2::254"),
    ("fe80::/10", "link-local (RFC 4291)"),
    # Deprecated (RFC 3879) but still routed inside the sites that use it; `ipaddress` calls it global.
    ("fec0::/10", "site-local (RFC 3879)"),
    ("ff00::/8", "multicast (RFC 4291)"),
)
# Only 2000::/3 is allocated as global unicast (RFC 4291 section 2.4, IANA's IPv6 Address Space):
# an IPv6 address outside it is refused even where no table entry names its range.
_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 is the last 32 bits

_DEFAULT_PORTS = {"http": 80, "https": 443}
READ_CHUNK = 8192
_LDH_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# A host whose last label is a number is an IPv4 address or nothing: the WHATWG URL Standard's
# "ends in a number" rule, which also keeps getaddrinfo from reading a "name" as a number.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_PORT = re.compile(r"[0-9]{1,5}")
_MAX_NAME_LENGTH = 253  # RFC 1035 section 2.3.4, written without the root's trailing dot


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Destination:
    """Where a URL goes: its canonical form, and the scheme, host and port connected to (an IPv6
    host without brackets, as urllib3 resolves it)."""

    scheme: str
    host: str
    port: int
    url: str


def _refused(message: str) -> BlockedDestination:
    return BlockedDestination(message, field="url")


def canonical_url(url: str) -> str:
    """The one spelling of `url` that is checked, stored and sent; refuses what has none."""
    return _canonical(url).url


def _canonical(url: str) -> Destination:
    if not url.isprintable():  # control characters, line breaks, tabs, invisible format marks
        raise _refused(
            "The URL contains control or invisible characters; remove them, or percent-encode them "
            "where the path needs them."
        )
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise _refused(f"The URL is malformed ({exc}); write it as https://host/path.") from None
    scheme = parts.scheme  # urlsplit lowercases it
    if scheme not in _DEFAULT_PORTS:
        raise _refused("Only http and https URLs can be called.")
    if "@" in parts.netloc:
        raise _refused("URLs with credentials (user@host) are refused; use the webhook's access token.")
    host_text, port_text = _split_authority(parts.netloc)
    host = _canonical_host(host_text)
    port = _port(port_text, scheme)
    url_host = f"[{host}]" if ":" in host else host
    explicit_port = None if port == _DEFAULT_PORTS[scheme] else port
    authority = url_host if explicit_port is None else f"{url_host}:{port}"
    written = f"{scheme}://{authority}{parts.path}"
    written += (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    sent = _as_requests_sends(written)
    # The same text through urllib3's parser (which picks the connection) and Python's must name
    # the very host and port that were canonicalised; a URL on which parsers disagree is refused.
    connected, split = parse_url(sent), urlsplit(sent)
    read_by_urllib3 = (connected.scheme, connected.host, connected.port, connected.auth)
    read_by_python = (split.scheme, split.hostname, split.port)
    canonicalised = (scheme, host, explicit_port)
    if read_by_urllib3 != (scheme, url_host, explicit_port, None) or read_by_python != canonicalised:
        raise _refused(
            "The URL cannot be sent as written: its host would be read differently by the code that "
            "connects; write the host plainly, as in https://hooks.example.com/path."
        )
    return Destination(scheme=scheme, host=host, port=port, url=sent)


def _split_authority(netloc: str) -> tuple[str, str | None]:
    """The host (IPv6 without its brackets) and the port text, as written."""
    if netloc.startswith("["):  # urlsplit has refused brackets that do not hold an IPv6 address
        host, _, rest = netloc[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise _refused(
                "The URL is malformed after the IPv6 address; write it as https://[address]:port/."
            )
        return host, rest[1:] if rest else None
    host, colon, port_text = netloc.partition(":")
    return host, port_text if colon else None


def _port(text: str | None, scheme: str) -> int:
    if not text:  # "https://example.com:/" is the default port too
        return _DEFAULT_PORTS[scheme]
    if not _PORT.fullmatch(text) or int(text) > 65535:
        raise _refused("The port must be a number from 1 to 65535.")
    if int(text) == 0:
        raise _refused("Port 0 cannot be called.")
    return int(text)


def _canonical_host(host: str) -> str:
    """A host as it is resolved and connected to: an IDNA 2008 name in lowercase without the root's
    trailing dot, a dotted-quad IPv4 address, or a compressed IPv6 address (without brackets)."""
    if not host:
        raise _refused("The URL has no host; write it as https://host/path.")
    if "%" in host:
        if ":" in host:
            raise _refused("IPv6 zone identifiers (%25...) cannot be called; use a DNS name.")
        raise _refused("The host is percent-encoded (%); write it plainly, as in hooks.example.com.")
    if ":" in host:
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError:
            raise _refused(f"[{host}] is not a valid IPv6 address.") from None
    try:
        # UTS #46 mapping, as requests applies it: case, fullwidth forms and the ideographic full
        # stops (U+3002, U+FF0E, U+FF61) become their plain equivalents, before labels are split.
        mapped = idna.uts46_remap(host, std3_rules=True, transitional=False)
    except UnicodeError as exc:
        raise _refused(f"The host name is not a valid DNS name ({exc}).") from None
    labels = mapped.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()  # the root: "example.com." is "example.com"
    if "" in labels:
        raise _refused("The host name has an empty label (two dots in a row, or a leading dot).")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        return _canonical_ipv4(".".join(labels))
    name = ".".join(_a_label(label) for label in labels)
    if len(name) > _MAX_NAME_LENGTH:
        raise _refused(f"The host name is longer than {_MAX_NAME_LENGTH} characters.")
    return name


def _canonical_ipv4(text: str) -> str:
    # inet_aton reads every form a resolver accepts (127.1, 0x7f.1, 0177.0.0.1, 2130706433).
    try:
        return str(ipaddress.IPv4Address(socket.inet_aton(text)))
    except OSError:
        raise _refused(
            "The host ends in a number but is not an IPv4 address; use a DNS name "
            "(no top-level domain is a number)."
        ) from None


def _a_label(label: str) -> str:
    """One label as DNS carries it. Plain labels keep their hyphens as they are (r3---sn-x is a real
    host); internationalised ones must be valid IDNA 2008, and an xn-- label must round-trip."""
    if label.isascii() and not label.startswith("xn--"):
        if _LDH_LABEL.fullmatch(label):
            return label
        raise _refused(
            f"The host name is not a valid DNS name: {label!r} must be letters, digits and inner "
            "hyphens, at most 63 characters."
        )
    try:
        encoded = idna.alabel(idna.ulabel(label) if label.isascii() else label).decode("ascii")
    except UnicodeError as exc:
        raise _refused(f"The host name is not a valid internationalised name ({exc}).") from None
    if label.isascii() and encoded != label:
        raise _refused(f"The host label {label!r} is not a valid xn-- label; write the name as it reads.")
    return encoded


def _as_requests_sends(url: str) -> str:
    """The URL as `requests` sends it, repeated until it no longer changes ("/%2e%2e/" becomes
    "/../" on the first pass and "/" on the second)."""
    for _ in range(3):
        prepared = PreparedRequest()
        try:
            prepared.prepare_url(url, None)
        except (requests.RequestException, ValueError) as exc:
            raise _refused(f"The URL cannot be sent ({exc}); check it and write it again.") from None
        assert prepared.url is not None
        if prepared.url == url:
            return url
        url = prepared.url
    raise _refused("The URL does not settle into one form when sent; simplify its path.")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, by the form that carries them."""
    if ip.ipv4_mapped:  # ::ffff:0:0/96, RFC 4291
        return [("IPv4-mapped", ip.ipv4_mapped)]
    if ip in _NAT64_WELL_KNOWN:
        return [("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))]
    if ip.sixtofour:  # 2002::/16, RFC 3056
        return [("6to4", ip.sixtofour)]
    if ip.teredo:  # 2001::/32, RFC 4380: the server and the client behind its NAT
        server, client = ip.teredo
        return [("Teredo server", server), ("Teredo client", client)]
    return []


def _special_purpose(ip: IPAddress) -> str | None:
    table = _REFUSED_IPV4 if ip.version == 4 else _REFUSED_IPV6
    for network, why in table:
        if ip in network:
            return f"{ip} is in {network}, {why}"
    return None


def _ip_literal(host: str) -> IPAddress | None:
    """The address a canonical host names literally, if it is one."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _resolved_address(answer: str) -> IPAddress:
    return ipaddress.ip_address(answer.split("%", 1)[0])  # a link-local answer may carry a zone


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
            # A packet to these forms ends at the IPv4 address they carry, so that address decides.
            carried = _embedded_ipv4(ip)
            for form, embedded in carried:
                reason = self.blocked_reason(embedded)
                if reason:
                    return f"{ip} carries {embedded} ({form}), and {reason}"
            if carried:
                return None
        reason = _special_purpose(ip)
        if reason:
            return reason
        if isinstance(ip, ipaddress.IPv6Address) and ip not in _IPV6_GLOBAL_UNICAST:
            return f"{ip} is outside IPv6 global unicast space, 2000::/3 (RFC 4291)"
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
        """The send-time check, without DNS: only a canonical URL is sent, so the host checked here
        and resolved in the connection is the very host urllib3 connects to."""
        destination = _canonical(url)
        if destination.url != url:
            raise _refused(
                f"This URL is not in canonical form, so it is not sent: it would go out as "
                f"{destination.url}. Save the webhook again to store that form."
            )
        return self._allowed(destination)

    def _allowed(self, destination: Destination) -> Destination:
        """Syntax-level checks, without DNS, on a canonical destination: what it may look like."""
        host, port = destination.host, destination.port
        literal = _ip_literal(host)
        if literal is not None:
            if not self.allowed_by_configuration(literal):
                raise _refused(
                    "IP-address hosts are refused; use a DNS name that resolves to a public address."
                )
        elif (host == "localhost" or host.endswith(".localhost")) and not self.allow:
            raise _refused("localhost cannot be called.")
        if destination.scheme == "http" and not self._all_allowed(host, literal, port):
            raise _refused("Plain http is only allowed to ranges opened in the configuration; use https.")
        return destination

    def _all_allowed(self, host: str, literal: IPAddress | None, port: int) -> bool:
        if literal is not None:
            return self.allowed_by_configuration(literal)
        if not self.allow:
            return False
        try:
            addresses = self.resolver(host, port)
        except OSError:
            return False
        return bool(addresses) and all(self.allowed_by_configuration(_resolved_address(a)) for a in addresses)

    def resolve(self, host: str, port: int) -> list[str]:
        """Resolve a canonical host and return its addresses, refusing it if any address is blocked.

        A host that is not canonical is refused rather than resolved: it comes from a URL that was
        not checked in the form urllib3 connects to."""
        canonical = _canonical_host(host)
        if canonical != host:
            raise _refused(
                f"The host {host!r} is not in canonical form ({canonical!r}), so it is not called; "
                "save the webhook again to store its URL in canonical form."
            )
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
            reason = self.blocked_reason(_resolved_address(address))
            if reason:
                raise BlockedDestination(
                    f"Requests to this destination are blocked ({host}: {reason}); "
                    "see the outbound allow-list in the configuration.",
                    field="url",
                )
        return addresses

    def check(self, url: str) -> Destination:
        """Everything a webhook URL must pass when it is saved: syntax and resolution. The answer
        carries the canonical URL, which is what should be stored and later sent."""
        destination = self._allowed(_canonical(url))
        self.resolve(destination.host, destination.port)
        return destination


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

    def _read(self, response: requests.Response, limit: int, started: float) -> bytes:
        # The whole exchange gets the connect and read timeouts together, and no more.
        return _read_until(response, limit, started + sum(self.timeout))

    def post(self, url: str, body: bytes, headers: dict[str, str], *, read_margin: int = 0) -> HttpOutcome:
        """POST and report. The answer is read `read_margin` bytes past the excerpt size, so that the
        caller can redact a secret that crosses the cut before cutting (see redaction.py). Nothing
        raised while sending escapes: every failure is an outcome with an error class."""
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
        except Exception as exc:
            # Anything else the HTTP stack raises on a request it could not encode (a header value
            # outside latin-1, say) is a failed request, not a crash: the caller redacts the text.
            return outcome(error=f"Request failed: {exc}", error_class="request_error")
        try:
            raw = self._read(response, self.excerpt_bytes + read_margin, started)
        except Exception as exc:  # a reset while reading the answer still leaves us its status
            raw = f"[could not read the response body: {exc.__class__.__name__}]".encode()
        finally:
            response.close()
        return outcome(
            status=response.status_code,
            response_headers=dict(response.headers),
            excerpt=_decoded(raw, response.headers.get("Content-Type")),
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
