"""URLs in their one canonical form: the spelling that is checked, stored and sent (see the package's
docstring for why there is only one)."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
import requests
from requests.models import PreparedRequest
from urllib3.util import parse_url

from mlhooks.errors import BlockedDestination

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LDH_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# A host whose last label is a number is an IPv4 address or nothing: the WHATWG URL Standard's
# "ends in a number" rule, which also keeps getaddrinfo from reading a "name" as a number.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_PORT = re.compile(r"[0-9]{1,5}")
_MAX_NAME_LENGTH = 253  # RFC 1035 section 2.3.4, written without the root's trailing dot


@dataclass(frozen=True)
class Destination:
    """Where a URL goes: its canonical form, and the scheme, host and port connected to (an IPv6
    host without brackets, as urllib3 resolves it)."""

    scheme: str
    host: str
    port: int
    url: str


def refused(message: str) -> BlockedDestination:
    return BlockedDestination(message, field="url")


def canonical_url(url: str) -> str:
    """The one spelling of `url` that is checked, stored and sent; refuses what has none."""
    return canonical_destination(url).url


def canonical_destination(url: str) -> Destination:
    if not url.isprintable():  # control characters, line breaks, tabs, invisible format marks
        raise refused(
            "The URL contains control or invisible characters; remove them, or percent-encode them "
            "where the path needs them."
        )
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise refused(f"The URL is malformed ({exc}); write it as https://host/path.") from None
    scheme = parts.scheme  # urlsplit lowercases it
    if scheme not in _DEFAULT_PORTS:
        raise refused("Only http and https URLs can be called.")
    if "@" in parts.netloc:
        raise refused("URLs with credentials (user@host) are refused; use the webhook's access token.")
    host_text, port_text = _split_authority(parts.netloc)
    host = canonical_host(host_text)
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
        raise refused(
            "The URL cannot be sent as written: its host would be read differently by the code that "
            "connects; write the host plainly, as in https://hooks.example.com/path."
        )
    return Destination(scheme=scheme, host=host, port=port, url=sent)


def _split_authority(netloc: str) -> tuple[str, str | None]:
    """The host (IPv6 without its brackets) and the port text, as written."""
    if netloc.startswith("["):  # urlsplit has refused brackets that do not hold an IPv6 address
        host, _, rest = netloc[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise refused("The URL is malformed after the IPv6 address; write it as https://[address]:port/.")
        return host, rest[1:] if rest else None
    host, colon, port_text = netloc.partition(":")
    return host, port_text if colon else None


def _port(text: str | None, scheme: str) -> int:
    if not text:  # "https://example.com:/" is the default port too
        return _DEFAULT_PORTS[scheme]
    if not _PORT.fullmatch(text) or int(text) > 65535:
        raise refused("The port must be a number from 1 to 65535.")
    if int(text) == 0:
        raise refused("Port 0 cannot be called.")
    return int(text)


def canonical_host(host: str) -> str:
    """A host as it is resolved and connected to: an IDNA 2008 name in lowercase without the root's
    trailing dot, a dotted-quad IPv4 address, or a compressed IPv6 address (without brackets)."""
    if not host:
        raise refused("The URL has no host; write it as https://host/path.")
    if "%" in host:
        if ":" in host:
            raise refused("IPv6 zone identifiers (%25...) cannot be called; use a DNS name.")
        raise refused("The host is percent-encoded (%); write it plainly, as in hooks.example.com.")
    if ":" in host:
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError:
            raise refused(f"[{host}] is not a valid IPv6 address.") from None
    try:
        # UTS #46 mapping, as requests applies it: case, fullwidth forms and the ideographic full
        # stops (U+3002, U+FF0E, U+FF61) become their plain equivalents, before labels are split.
        mapped = idna.uts46_remap(host, std3_rules=True, transitional=False)
    except UnicodeError as exc:
        raise refused(f"The host name is not a valid DNS name ({exc}).") from None
    labels = mapped.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()  # the root: "example.com." is "example.com"
    if "" in labels:
        raise refused("The host name has an empty label (two dots in a row, or a leading dot).")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        return _canonical_ipv4(".".join(labels))
    name = ".".join(_a_label(label) for label in labels)
    if len(name) > _MAX_NAME_LENGTH:
        raise refused(f"The host name is longer than {_MAX_NAME_LENGTH} characters.")
    return name


def _canonical_ipv4(text: str) -> str:
    # inet_aton reads every form a resolver accepts (127.1, 0x7f.1, 0177.0.0.1, 2130706433).
    try:
        return str(ipaddress.IPv4Address(socket.inet_aton(text)))
    except OSError:
        raise refused(
            "The host ends in a number but is not an IPv4 address; use a DNS name "
            "(no top-level domain is a number)."
        ) from None


def _a_label(label: str) -> str:
    """One label as DNS carries it. Plain labels keep their hyphens as they are (r3---sn-x is a real
    host); internationalised ones must be valid IDNA 2008, and an xn-- label must round-trip."""
    if label.isascii() and not label.startswith("xn--"):
        if _LDH_LABEL.fullmatch(label):
            return label
        raise refused(
            f"The host name is not a valid DNS name: {label!r} must be letters, digits and inner "
            "hyphens, at most 63 characters."
        )
    try:
        encoded = idna.alabel(idna.ulabel(label) if label.isascii() else label).decode("ascii")
    except UnicodeError as exc:
        raise refused(f"The host name is not a valid internationalised name ({exc}).") from None
    if label.isascii() and encoded != label:
        raise refused(f"The host label {label!r} is not a valid xn-- label; write the name as it reads.")
    return encoded


def _as_requests_sends(url: str) -> str:
    """The URL as `requests` sends it, repeated until it no longer changes ("/%2e%2e/" becomes
    "/../" on the first pass and "/" on the second)."""
    for _ in range(3):
        prepared = PreparedRequest()
        try:
            prepared.prepare_url(url, None)
        except (requests.RequestException, ValueError) as exc:
            raise refused(f"The URL cannot be sent ({exc}); check it and write it again.") from None
        assert prepared.url is not None
        if prepared.url == url:
            return url
        url = prepared.url
    raise refused("The URL does not settle into one form when sent; simplify its path.")
