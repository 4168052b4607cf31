"""Which peers count as one address for per-address limits.

One host on IPv6 usually holds a whole /64 (SLAAC, privacy addresses), so
keying a limit on the exact IPv6 address would give it 2^64 addresses' worth
of connections. Every per-address limit therefore keys on ``address_key``:
the IPv6 network of ``ipv6_prefix_length`` bits (default /64) or the IPv4
network of ``ipv4_prefix_length`` bits (default /32, the address itself).
An IPv4-mapped IPv6 address (``::ffff:198.51.100.7``, from a dual-stack
socket) counts as the IPv4 address it carries.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Protocol


class PrefixLengths(Protocol):
    """The two settings ``address_key`` reads (``gameserver.config.Config`` has them)."""

    @property
    def ipv4_prefix_length(self) -> int: ...

    @property
    def ipv6_prefix_length(self) -> int: ...


def address_key(host: str, config: PrefixLengths) -> str:
    """The key per-address limits count ``host`` under: an address, or a network in CIDR form.

    A host that is not an IP address (``"unknown"``, a peer that reset first) is its own key.
    """
    return _key(host, config.ipv4_prefix_length, config.ipv6_prefix_length)


@functools.lru_cache(maxsize=4096)
def _key(host: str, ipv4_prefix_length: int, ipv6_prefix_length: int) -> str:
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            host.split("%", 1)[0]  # a scope id (fe80::1%eth0) does not make another host
        )
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = ipv4_prefix_length if address.version == 4 else ipv6_prefix_length
    if prefix >= address.max_prefixlen:
        return str(address)
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
