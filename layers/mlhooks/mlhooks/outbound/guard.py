"""The outbound guard: what a URL may look like, and where its host may resolve to."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable

from mlhooks.errors import BlockedDestination, UnresolvableDestination
from mlhooks.outbound.addresses import (
    IPV6_GLOBAL_UNICAST,
    IPAddress,
    IPNetwork,
    embedded_ipv4,
    ip_literal,
    resolved_address,
    special_purpose,
)
from mlhooks.outbound.urls import Destination, canonical_destination, canonical_host, refused

Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


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
            carried = embedded_ipv4(ip)
            for form, embedded in carried:
                reason = self.blocked_reason(embedded)
                if reason:
                    return f"{ip} carries {embedded} ({form}), and {reason}"
            if carried:
                return None
        reason = special_purpose(ip)
        if reason:
            return reason
        if isinstance(ip, ipaddress.IPv6Address) and ip not in IPV6_GLOBAL_UNICAST:
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
        destination = canonical_destination(url)
        if destination.url != url:
            # The message names no URL: it is kept as the attempt's error and the webhook's last
            # error, which members and viewers read, and a URL can be a credential (see redaction).
            raise refused(
                "This URL is not in canonical form, so it is not sent. Save the webhook again "
                "(its URL unchanged) to store the canonical form."
            )
        return self._allowed(destination)

    def _allowed(self, destination: Destination) -> Destination:
        """Syntax-level checks, without DNS, on a canonical destination: what it may look like."""
        host, port = destination.host, destination.port
        literal = ip_literal(host)
        if literal is not None:
            if not self.allowed_by_configuration(literal):
                raise refused(
                    "IP-address hosts are refused; use a DNS name that resolves to a public address."
                )
        elif (host == "localhost" or host.endswith(".localhost")) and not self.allow:
            raise refused("localhost cannot be called.")
        if destination.scheme == "http" and not self._all_allowed(host, literal, port):
            raise refused("Plain http is only allowed to ranges opened in the configuration; use https.")
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
        return bool(addresses) and all(self.allowed_by_configuration(resolved_address(a)) for a in addresses)

    def resolve(self, host: str, port: int) -> list[str]:
        """Resolve a canonical host and return its addresses, refusing it if any address is blocked.

        A host that is not canonical is refused rather than resolved: it comes from a URL that was
        not checked in the form urllib3 connects to."""
        canonical = canonical_host(host)
        if canonical != host:
            raise refused(
                f"The host {host!r} is not in canonical form ({canonical!r}), so it is not called; "
                "save the webhook again to store its URL in canonical form."
            )
        literal = ip_literal(host)
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
            reason = self.blocked_reason(resolved_address(address))
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
        destination = self._allowed(canonical_destination(url))
        self.resolve(destination.host, destination.port)
        return destination
