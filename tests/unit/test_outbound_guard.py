"""The outbound guard: internal destinations refused at save time and at send time."""

from __future__ import annotations

import ipaddress

import pytest

from mlhooks.errors import BlockedDestination, UnresolvableDestination
from mlhooks.outbound import OutboundClient, OutboundGuard

pytestmark = pytest.mark.suite("outbound guard")

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


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
    assert outcome.status_code == 200 and len(outcome.body_excerpt) == 1000
