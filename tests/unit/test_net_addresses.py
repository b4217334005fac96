"""Which addresses and URLs the outbound guard lets through (core/net/addresses.py)."""

from __future__ import annotations

import ipaddress

import pytest

from core.errors import InvalidInput
from core.net import AddressNotAllowed, NetworkPolicy, check_public_url

OPEN = NetworkPolicy()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.0.9",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.100.100.200",  # shared address space (a provider's metadata)
        "0.0.0.0",
        "224.0.0.1",
        "239.255.255.250",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "2002:7f00:1::",  # 6to4 wrapping 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 wrapping 169.254.169.254
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    with pytest.raises(AddressNotAllowed):
        OPEN.check(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    OPEN.check(address)


def test_allow_list_opens_only_its_networks() -> None:
    policy = NetworkPolicy.parse(" 127.0.0.0/8 , ::1 ")
    policy.check("127.0.0.1")
    policy.check("::1")
    with pytest.raises(AddressNotAllowed):
        policy.check("10.0.0.1")
    assert policy.allow == (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def test_bad_allow_list_names_the_entry() -> None:
    with pytest.raises(ValueError, match="not-a-net"):
        NetworkPolicy.parse("10.0.0.0/8,not-a-net")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.ogg",
        "http://[::1]:8080/",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0x7f.1/",  # legacy hex form
        "http://127.1/",  # legacy short form
        "http://[::ffff:7f00:1]/",
    ],
)
def test_ip_literal_urls_are_checked_at_once(url: str) -> None:
    with pytest.raises(AddressNotAllowed):
        check_public_url(url, OPEN)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/a.ogg", "http"),
        ("file:///etc/passwd", "http"),
        ("/relative/path", "http"),
        ("https://user:pass@example.com/a.ogg", "Credentials"),
        ("https://example.com/" + "a" * 3000, "longer"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as caught:
        check_public_url(url, OPEN)
    assert not isinstance(caught.value, AddressNotAllowed)


def test_names_pass_the_shape_check() -> None:
    # names are checked against what they resolve to at connection time, not here
    assert str(check_public_url("https://example.com/a.ogg?x=1", OPEN)) == "https://example.com/a.ogg?x=1"
