from __future__ import annotations

import pytest

from gameserver.config import Config
from gameserver.server.network.addresses import address_key


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),  # IPv4 on a dual-stack socket
        ("fe80::1%eth0", "fe80::/64"),
        ("unknown", "unknown"),
    ],
)
def test_default_keys_are_the_ipv4_address_and_the_ipv6_slash_64(host: str, key: str) -> None:
    assert address_key(host, Config().admission) == key


def test_one_ipv6_host_cannot_spread_over_its_slash_64() -> None:
    config = Config().admission
    hosts = [f"2001:db8:0:7:{i:x}::{i:x}" for i in range(1, 200)]
    assert {address_key(host, config) for host in hosts} == {"2001:db8:0:7::/64"}
    assert address_key("2001:db8:0:8::1", config) != address_key(hosts[0], config)


def test_prefix_lengths_are_configurable() -> None:
    config = Config.of(ipv4_prefix_length=24, ipv6_prefix_length=48).admission
    assert address_key("198.51.100.7", config) == "198.51.100.0/24"
    assert address_key("2001:db8:1:2::1", config) == "2001:db8:1::/48"
    exact = Config.of(ipv6_prefix_length=128).admission
    assert address_key("2001:db8::1", exact) == "2001:db8::1"
    with pytest.raises(ValueError):
        Config.of(ipv6_prefix_length=129)
