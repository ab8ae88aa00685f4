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

from mlhooks.outbound.client import OutboundClient
from mlhooks.outbound.guard import OutboundGuard, system_resolver
from mlhooks.outbound.urls import Destination, canonical_url

__all__ = ["Destination", "OutboundClient", "OutboundGuard", "canonical_url", "system_resolver"]
