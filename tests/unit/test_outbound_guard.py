"""The outbound guard: internal destinations refused at save time and at send time."""

# ruff: noqa: RUF001 - fullwidth and ideographic characters are the hostile forms under test.

from __future__ import annotations

import ipaddress

import idna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from requests.models import PreparedRequest
from urllib3.util import parse_url

from mlhooks.errors import BlockedDestination, UnresolvableDestination
from mlhooks.outbound import OutboundClient, OutboundGuard, canonical_url

pytestmark = pytest.mark.suite("outbound guard")

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
DEFAULT_PORTS = {"http": 80, "https": 443}


def resolver(table):
    def resolve(host, port):
        if host not in table:
            raise OSError(f"no such host {host}")
        answer = table[host]
        return list(answer() if callable(answer) else answer)

    return resolve


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/",
        "https://10.0.0.1/",
        "https://[::1]/",
        "https://[fd00:ec2::254]/",
        "https://2130706433/",
        "https://0177.0.0.1/",
        "https://0x7f000001/",
        "https://127.1/",
        "https://[::ffff:169.254.169.254]/",
        "https://0.0.0.0/",
        "https://localhost/",
        "https://LOCALHOST./",
        "https://api.localhost/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "ftp://example.com/",
        "https://user@example.com/",
        "https://example.com:0/",
        "http://example.com/",
        "https://exa mple.com/",
        "https://-bad-.com/",
        "https:///nohost",
    ],
)
def test_refused_without_dns(url):
    guard = OutboundGuard(resolver=resolver({"example.com": ["93.184.215.14"]}))
    with pytest.raises(BlockedDestination) as caught:
        guard.check(url)
    assert caught.value.field == "url"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",
        "64:ff9b::a00:1",
    ],
)
def test_names_resolving_to_internal_addresses_are_refused(address):
    guard = OutboundGuard(resolver=resolver({"hooks.example.com": [address]}))
    with pytest.raises(BlockedDestination):
        guard.check("https://hooks.example.com/x")


def test_one_internal_address_among_public_ones_is_enough_to_refuse():
    guard = OutboundGuard(resolver=resolver({"mixed.example.com": ["93.184.215.14", "10.0.0.1"]}))
    with pytest.raises(BlockedDestination):
        guard.check("https://mixed.example.com/")


def test_public_name_passes_and_unresolvable_name_is_reported():
    guard = OutboundGuard(
        resolver=resolver({"hooks.example.com": ["93.184.215.14", "2606:2800:21f:cb07::1"]})
    )
    assert guard.check("https://hooks.example.com/x").host == "hooks.example.com"
    with pytest.raises(UnresolvableDestination):
        guard.check("https://nowhere.example.com/")


def test_allow_list_opens_only_its_ranges():
    guard = OutboundGuard(LOOPBACK, resolver=resolver({}))
    assert guard.check("http://127.0.0.1:8000/hook").port == 8000
    with pytest.raises(BlockedDestination):
        guard.check("http://10.0.0.1/")


def test_dns_rebinding_is_caught_at_send_time(receiver):
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])  # public when saved, loopback when sent
    guard = OutboundGuard(resolver=resolver({"rebind.example.com": lambda: next(answers)}))
    guard.check("https://rebind.example.com/hook")
    outcome = OutboundClient(guard).post("https://rebind.example.com/hook", b"{}", {})
    assert outcome.status_code is None and outcome.error_class == "blocked_destination"
    assert receiver.requests == []


def test_connection_goes_to_the_checked_address(receiver):
    # hook.test exists only in the guard's resolver: the socket must use the address it checked.
    port = receiver.server.server_address[1]
    guard = OutboundGuard(LOOPBACK, resolver=resolver({"hook.test": ["127.0.0.1"]}))
    outcome = OutboundClient(guard).post(
        f"http://hook.test:{port}/hook", b'{"a":1}', {"Content-Type": "application/json"}
    )
    assert outcome.status_code == 200
    [request] = receiver.requests
    assert request.headers["Host"] == f"hook.test:{port}" and request.body == b'{"a":1}'


def test_redirects_are_not_followed(receiver):
    receiver.status = 302
    outcome = OutboundClient(OutboundGuard(LOOPBACK)).post(receiver.url, b"{}", {})
    assert outcome.status_code == 302 and len(receiver.requests) == 1


def test_response_body_is_read_up_to_the_cap(receiver):
    receiver.reply = b"x" * 100_000
    outcome = OutboundClient(OutboundGuard(LOOPBACK), excerpt_bytes=1000).post(receiver.url, b"{}", {})
    assert outcome.status_code == 200 and len(outcome.excerpt) == 1000


# ---- special-purpose ranges ------------------------------------------------------------------------
# Every range of the IANA IPv4 and IPv6 special-purpose registries that is not globally reachable,
# with multicast, broadcast and reserved space: refused from its first address to its last.

REFUSED_RANGES = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "::/128",
    "::1/128",
    "::/96",
    "::ffff:0:0:0/96",
    "64:ff9b:1::/48",
    "100::/64",
    "100:0:0:1::/64",
    "2001::/23",
    "2001:2::/48",
    "2001:db8::/32",
    "3fff::/20",
    "5f00::/16",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
    "4000::/3",
]


@pytest.mark.parametrize("network", REFUSED_RANGES)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_every_address_of_a_special_purpose_range_is_refused(network, where):
    net = ipaddress.ip_network(network)
    address = {"first": net[0], "middle": net[net.num_addresses // 2], "last": net[-1]}[where]
    guard = OutboundGuard(resolver=resolver({"hooks.example.com": [str(address)]}))
    with pytest.raises(BlockedDestination) as caught:
        guard.check("https://hooks.example.com/x")
    assert str(address) in caught.value.message


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "100.63.255.255",
        "100.128.0.0",
        "192.0.1.255",
        "192.0.3.0",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255",
        "2606:2800:21f:cb07::1",
        "2001:200::1",
        "2001:db9::1",
        "3fff:1000::1",
        "::ffff:93.184.215.14",
        "64:ff9b::5db8:d70e",
        "2002:5db8:d70e::1",
        "2001:0:5db8:d70e::a247:28f1",
    ],
)
def test_public_addresses_next_to_refused_ranges_pass(address):
    guard = OutboundGuard(resolver=resolver({"hooks.example.com": [address]}))
    assert guard.check("https://hooks.example.com/x").host == "hooks.example.com"


@pytest.mark.parametrize(
    ("address", "carried"),
    [
        ("::ffff:169.254.169.254", "169.254.169.254"),
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
        ("64:ff9b::6440:1", "100.64.0.1"),
        ("2002:a9fe:a9fe::1", "169.254.169.254"),
        ("2002:c000:201::1", "192.0.2.1"),
        ("2001:0:5db8:d70e::f5ff:fffe", "10.0.0.1"),  # the Teredo client, stored inverted
        ("2001:0:a00:1::a247:28f1", "10.0.0.1"),  # the Teredo server
    ],
)
def test_ipv4_inside_ipv6_is_judged_by_the_address_it_carries(address, carried):
    guard = OutboundGuard(resolver=resolver({"hooks.example.com": [address]}))
    with pytest.raises(BlockedDestination) as caught:
        guard.check("https://hooks.example.com/x")
    assert f"carries {carried}" in caught.value.message


@pytest.mark.parametrize(
    ("allow", "address"),
    [
        ("fec0::/10", "fec0::1"),
        ("100.64.0.0/10", "100.64.0.1"),
        ("fd00::/8", "fd00:ec2::254"),
        ("127.0.0.0/8", "64:ff9b::7f00:1"),
    ],
)
def test_allow_list_opens_ranges_the_guard_would_refuse(allow, address):
    guard = OutboundGuard([ipaddress.ip_network(allow)], resolver=resolver({"hooks.example.com": [address]}))
    assert guard.check("https://hooks.example.com/x").host == "hooks.example.com"


# ---- canonical URLs ----------------------------------------------------------------------------------
# One spelling per URL, so the host checked is the host connected to.

CANONICAL = [
    ("https://example.com./hook", "https://example.com/hook"),
    ("https://ｅｘａｍｐｌｅ．ｃｏｍ/", "https://example.com/"),
    ("https://example。com/", "https://example.com/"),
    ("https://example｡com/", "https://example.com/"),
    ("https://example.com。/", "https://example.com/"),
    ("HTTPS://Example.COM/Hook", "https://example.com/Hook"),
    ("https://example.com:443/", "https://example.com/"),
    ("http://example.com:80/", "http://example.com/"),
    ("https://example.com:/", "https://example.com/"),
    ("https://example.com:08443/", "https://example.com:8443/"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com?x=1", "https://example.com/?x=1"),
    ("https://straße.de/", "https://xn--strae-oqa.de/"),
    ("https://BÜCHER.example/", "https://xn--bcher-kva.example/"),
    ("https://XN--BCHER-KVA.example/", "https://xn--bcher-kva.example/"),
    ("https://ﬁ.example/", "https://fi.example/"),
    ("https://r3---sn-ab.example.com/", "https://r3---sn-ab.example.com/"),
    ("http://0x7f.1:8000/", "http://127.0.0.1:8000/"),
    ("http://2130706433/", "http://127.0.0.1/"),
    ("http://0177.0.0.1/", "http://127.0.0.1/"),
    ("http://127.1/", "http://127.0.0.1/"),
    ("http://127.0.0.1./", "http://127.0.0.1/"),
    ("http://１２７.０.０.１/", "http://127.0.0.1/"),
    ("http://[0:0:0:0:0:0:0:1]:8000/", "http://[::1]:8000/"),
    ("https://[2001:DB8:0:0:0:0:0:1]/", "https://[2001:db8::1]/"),
    ("https://example.com/a/./b/../c", "https://example.com/a/c"),
    ("https://example.com/%2e%2e/x", "https://example.com/x"),
    ("https://example.com/a b?q=c d", "https://example.com/a%20b?q=c%20d"),
    ("https://example.com/ü", "https://example.com/%C3%BC"),
]


@pytest.mark.parametrize(("url", "canonical"), CANONICAL)
def test_canonical_url_spells_each_hostile_form_one_way(url, canonical):
    assert canonical_url(url) == canonical


@pytest.mark.parametrize("canonical", sorted({c for _, c in CANONICAL}))
def test_canonical_url_of_a_canonical_url_is_itself(canonical):
    assert canonical_url(canonical) == canonical


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1../", "empty label"),
        ("https://example..com/", "empty label"),
        ("https://.example.com/", "empty label"),
        ("https://%65xample.com/", "percent-encoded"),
        ("https://127.0.0.1%2e/", "percent-encoded"),
        ("https://[fe80::1%25eth0]/", "zone identifiers"),
        ("https://☃.com/", "not a valid internationalised name"),
        ("https://xn--zz.example/", "not a valid internationalised name"),
        ("https://example.123/", "ends in a number"),
        ("https://256.0.0.1/", "ends in a number"),
        ("https://1.2.3.4.5/", "ends in a number"),
        ("https://example.0x/", "ends in a number"),
        ("https://a_b.example.com/", "not a valid DNS name"),
        ("https://-bad-.example.com/", "not a valid DNS name"),
        ("https://exa mple.com/", "not a valid DNS name"),
        ("https://example.com\\.evil.example/", "not a valid DNS name"),
        (f"https://{'a' * 64}.example/", "at most 63 characters"),
        (f"https://{'.'.join(['a' * 60] * 5)}.example/", "longer than 253"),
        ("https://example.com:65536/", "from 1 to 65535"),
        ("https://example.com:8o/", "from 1 to 65535"),
        ("https://example.com:-1/", "from 1 to 65535"),
        ("https://example.com:0/", "Port 0"),
        ("https://[127.0.0.1]/", "malformed"),
        ("https://[hooks.example.com]/", "malformed"),
        ("https://[::1]x/", "after the IPv6 address"),
        ("https://[::g]/", "malformed"),
        ("https://example.com/\nx", "control or invisible"),
        ("https://example.com\t/", "control or invisible"),
        ("https://exam\u200bple.com/", "control or invisible"),
        ("https://example.com：8080/", "malformed"),
        ("https:///nohost", "no host"),
        ("https://user@example.com/", "credentials"),
        ("gopher://example.com/", "Only http and https"),
    ],
)
def test_urls_that_cannot_be_canonicalised_are_refused_with_what_to_do(url, says):
    with pytest.raises(BlockedDestination) as caught:
        canonical_url(url)
    assert caught.value.field == "url" and says in caught.value.message


# Every range open and every name answered: only the spelling of the URL is judged.
ANYWHERE = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def answer_loopback(host, port):
    return ["127.0.0.1"]


@pytest.mark.parametrize(("url", "canonical"), [(u, c) for u, c in CANONICAL if u != c])
def test_save_time_check_returns_the_canonical_url(url, canonical):
    guard = OutboundGuard(ANYWHERE, resolver=answer_loopback)
    assert guard.check(url).url == canonical


@pytest.mark.parametrize(("url", "canonical"), [(u, c) for u, c in CANONICAL if u != c])
def test_send_time_check_refuses_a_url_that_is_not_canonical(url, canonical):
    guard = OutboundGuard(ANYWHERE, resolver=answer_loopback)
    with pytest.raises(BlockedDestination) as caught:
        guard.check_url(url)
    assert caught.value.field == "url" and "not in canonical form" in caught.value.message
    # It quotes neither form of the URL: a URL can be a credential, and members read attempts' errors.
    assert url not in caught.value.message and canonical not in caught.value.message


@pytest.mark.parametrize("canonical", sorted({c for _, c in CANONICAL}))
def test_send_time_check_accepts_the_url_the_save_time_check_returned(canonical):
    guard = OutboundGuard(ANYWHERE, resolver=answer_loopback)
    assert guard.check_url(guard.check(canonical).url).url == canonical


@pytest.mark.parametrize(
    "host",
    [
        "HOOK.test",
        "hook.test.",
        "ｈｏｏｋ．ｔｅｓｔ",
        "hook。test",
        "0x7f.1",
        "2130706433",
        "127.1",
        "0:0::1",
    ],
)
def test_connection_refuses_to_resolve_a_host_that_is_not_canonical(host):
    asked = []
    guard = OutboundGuard(LOOPBACK, resolver=lambda h, p: asked.append(h) or ["127.0.0.1"])
    with pytest.raises(BlockedDestination):
        guard.resolve(host, 80)
    assert asked == []


@pytest.mark.parametrize(
    "written",
    [
        "http://hook.test:{port}/hook",
        "http://HOOK.Test.:{port}/hook",
        "http://ｈｏｏｋ．ｔｅｓｔ:{port}/hook",
        "http://hook。test:{port}/hook",
        "http://BÜCHER.test:{port}/hook",
    ],
)
def test_guard_resolves_exactly_the_host_that_is_connected_to(receiver, written):
    # A real server on 127.0.0.1, reached through names only the guard's resolver knows: urllib3
    # asks the guard for the host it connects to, so every name asked must be the one saved.
    port = receiver.server.server_address[1]
    asked = []
    known = resolver({"hook.test": ["127.0.0.1"], "xn--bcher-kva.test": ["127.0.0.1"]})
    guard = OutboundGuard(LOOPBACK, resolver=lambda host, p: asked.append(host) or known(host, p))
    saved = guard.check(written.format(port=port))
    asked.clear()
    outcome = OutboundClient(guard).post(saved.url, b"{}", {})
    assert outcome.status_code == 200
    [request] = receiver.requests
    assert asked and set(asked) == {saved.host}
    assert request.headers["Host"] == f"{saved.host}:{port}"


def test_a_url_that_is_not_canonical_is_not_sent(receiver):
    port = receiver.server.server_address[1]
    guard = OutboundGuard(LOOPBACK, resolver=resolver({"hook.test": ["127.0.0.1"]}))
    outcome = OutboundClient(guard).post(f"http://HOOK.test:{port}/hook", b"{}", {})
    assert outcome.error_class == "blocked_destination" and receiver.requests == []


# ---- canonicalisation, as properties ------------------------------------------------------------------

DOTS = st.sampled_from([".", "。", "．", "｡"])  # the full stops UTS #46 maps to "."
ascii_labels = st.from_regex(r"[a-zA-Z][a-zA-Z0-9]{0,8}(-{1,3}[a-zA-Z0-9]{1,4})?", fullmatch=True).filter(
    lambda label: not label.lower().startswith("xn--")  # an A-label is generated from Unicode below
)
unicode_labels = st.text(alphabet="abcxyzüößéжд中文ｅｆＧ", min_size=1, max_size=10)


@st.composite
def names(draw):
    """A DNS name in some spelling, and the host it must become."""
    labels = draw(st.lists(st.one_of(ascii_labels, unicode_labels), min_size=1, max_size=4))
    labels.append(draw(st.from_regex(r"[a-zA-Z]{2,6}", fullmatch=True)))
    written = "".join(label + draw(DOTS) for label in labels[:-1]) + labels[-1]
    written += draw(st.sampled_from(["", ".", "。"]))  # the root, written or not
    # Plain labels keep their hyphens (r3---sn-x is a real host); others are IDNA 2008 A-labels.
    expected = [
        label.lower() if label.isascii() else idna.encode(label, uts46=True).decode() for label in labels
    ]
    return written, ".".join(expected)


@st.composite
def ipv4_literals(draw):
    ip = draw(st.ip_addresses(v=4))
    a, b, c, d = ip.packed
    written = draw(
        st.sampled_from(
            [
                str(ip),
                str(int(ip)),
                hex(int(ip)),
                ".".join(f"0{octet:o}" for octet in ip.packed),
                f"{a}.{b}.{c * 256 + d}",
                f"{a}.{b * 65536 + c * 256 + d}",
                f"{ip}.",
            ]
        )
    )
    return written, str(ip)


@st.composite
def ipv6_literals(draw):
    ip = draw(st.ip_addresses(v=6))
    written = draw(st.sampled_from([ip.exploded, ip.compressed, ip.exploded.upper()]))
    return f"[{written}]", str(ip)


url_text = st.text(
    st.characters(
        codec="utf-8",
        exclude_categories=["Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"],
        include_characters=" ",
    ),
    max_size=20,
)


@st.composite
def urls(draw):
    """A well-formed http(s) URL in some spelling, with the host and port it must be sent to."""
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host, canonical_host = draw(st.one_of(names(), ipv4_literals(), ipv6_literals()))
    default = 80 if scheme.lower() == "http" else 443
    port = draw(st.one_of(st.none(), st.just(default), st.integers(1, 65535)))
    url = f"{scheme}://{host}" + ("" if port is None else f":{port}")
    url += draw(st.one_of(st.just(""), url_text.map(lambda t: "/" + t.replace("?", "").replace("#", ""))))
    url += draw(st.one_of(st.just(""), url_text.map(lambda t: "?" + t.replace("#", ""))))
    url += draw(st.one_of(st.just(""), url_text.map(lambda t: "#" + t)))
    return url, canonical_host, port or default


@given(urls())
@settings(max_examples=300, deadline=None)
def test_canonicalisation_is_idempotent(case):
    url, _, _ = case
    canonical = canonical_url(url)
    assert canonical_url(canonical) == canonical


@given(urls())
@settings(max_examples=300, deadline=None)
def test_canonical_url_is_sent_by_requests_exactly_as_written(case):
    url, _, _ = case
    canonical = canonical_url(url)
    prepared = PreparedRequest()
    prepared.prepare_url(canonical, None)
    assert prepared.url == canonical


@given(urls())
@settings(max_examples=300, deadline=None)
def test_canonical_url_connects_to_the_host_and_port_written(case):
    url, host, port = case
    connected = parse_url(canonical_url(url))
    assert connected.host.strip("[]") == host and (connected.port or DEFAULT_PORTS[connected.scheme]) == port


hostile_text = st.text(alphabet="aZ09.-_:/?#@[]%\\。．｡ｅ１ ü\u200b\t", max_size=30)


@given(st.sampled_from(["http://", "https://", "HTTP://", "https:", ""]), hostile_text)
@settings(max_examples=500, deadline=None)
def test_any_text_is_either_refused_or_given_a_canonical_form_that_is_stable(prefix, text):
    try:
        canonical = canonical_url(prefix + text)
    except BlockedDestination as refused:
        assert refused.field == "url" and refused.message
    else:
        assert canonical_url(canonical) == canonical
