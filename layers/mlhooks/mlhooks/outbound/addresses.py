"""Which addresses mlhooks never calls: IANA's special-purpose ranges, named one by one with the
reason each is refused, and the IPv4 addresses that IPv6 forms carry."""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


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
IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 is the last 32 bits


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
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


def special_purpose(ip: IPAddress) -> str | None:
    table = _REFUSED_IPV4 if ip.version == 4 else _REFUSED_IPV6
    for network, why in table:
        if ip in network:
            return f"{ip} is in {network}, {why}"
    return None


def ip_literal(host: str) -> IPAddress | None:
    """The address a canonical host names literally, if it is one."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolved_address(answer: str) -> IPAddress:
    return ipaddress.ip_address(answer.split("%", 1)[0])  # a link-local answer may carry a zone
