"""Which addresses a user-supplied URL may reach, and the shape such a URL must have."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from yarl import URL

from core.errors import InvalidInput

if TYPE_CHECKING:
    from core.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 2048
SCHEMES = frozenset({"http", "https"})


class AddressNotAllowed(InvalidInput):
    """The URL leads to an address the platform does not call for users (loopback, private, …)."""

    code = "address_not_allowed"
    default_message = (
        "The URL leads to a loopback, private, link-local, multicast or otherwise non-public address, "
        "which the platform does not call."
    )


@dataclass(frozen=True)
class NetworkPolicy:
    """Public addresses only, plus the networks the operator allow-listed (``FETCH_ALLOW``)."""

    allow: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> NetworkPolicy:
        return cls.parse(settings.fetch_allow)

    @classmethod
    def parse(cls, text: str) -> NetworkPolicy:
        """``"127.0.0.0/8, ::1"`` → a policy; a bad entry raises ValueError naming it."""
        networks: list[IPNetwork] = []
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError as exc:
                raise ValueError(f"FETCH_ALLOW: {entry!r} is not an IP network") from exc
        return cls(tuple(networks))

    def permits(self, address: IPAddress) -> bool:
        """True for a public unicast address or one inside an allow-listed network."""
        if any(address in network for network in self.allow):
            return True
        return all(_is_public(inner) for inner in _embedded(address))

    def check(self, address: str | IPAddress) -> None:
        """Raise ``AddressNotAllowed`` unless the address may be called."""
        parsed = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
        if not self.permits(parsed):
            raise AddressNotAllowed()


def check_public_url(url: str | URL, policy: NetworkPolicy) -> URL:
    """An absolute http(s) URL without credentials whose host, if an IP literal, may be called.

    Names are checked later, by the resolver of ``guarded_session``, against the addresses they
    resolve to at connection time — checking them here would be undone by a DNS answer that changes.
    """
    text = str(url)
    if len(text) > MAX_URL_LENGTH:
        raise InvalidInput(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parsed = URL(text)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("The URL cannot be parsed.") from exc
    if parsed.scheme not in SCHEMES or not parsed.is_absolute() or not parsed.raw_host:
        raise InvalidInput("Only absolute http:// and https:// URLs are accepted.")
    if parsed.user is not None or parsed.password is not None:
        raise InvalidInput("Credentials in the URL are not accepted (they would end up in logs).")
    literal = _ip_literal(parsed.raw_host)
    if literal is not None:
        policy.check(literal)
    return parsed


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host names directly: standard forms and the legacy ones (``2130706433``,
    ``0x7f.1``, ``127.1``) that C resolvers still accept."""
    bare = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(bare))
    except (OSError, ValueError):
        return None


def _embedded(address: IPAddress) -> list[IPAddress]:
    """The address and any IPv4 address tunnelled inside it (mapped, 6to4, Teredo, NAT64), each of
    which must be public: ``::ffff:127.0.0.1`` is loopback."""
    found: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            found.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            found.append(address.sixtofour)
        if address.teredo is not None:
            found.extend(address.teredo)
        if address in _NAT64:
            found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _is_public(address: IPAddress) -> bool:
    # is_global excludes loopback, private, link-local (the metadata service at 169.254.169.254),
    # shared (100.64/10), reserved and unspecified ranges; multicast is refused on its own.
    return address.is_global and not address.is_multicast
