"""The time since a node's last heartbeat, in memory and in Redis alike."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

from gameserver.server.cluster.directory import Directory, open_directory

from .test_directory import backend_url, node  # noqa: F401  (the fixture, for both backends)


@pytest.fixture
async def directory(backend_url: str | None) -> AsyncIterator[Directory]:  # noqa: F811
    async with open_directory(backend_url, prefix="beats:") as opened:
        yield opened


async def test_a_heartbeat_resets_the_age_and_an_unknown_node_has_none(
    directory: Directory,
) -> None:
    await directory.register_node(node("n1"), 5.0)
    assert 0 <= (await directory.node_beat_age_s("n1") or 0) < 0.1
    await trio.sleep(0.3)
    aged = await directory.node_beat_age_s("n1")
    assert aged is not None and 0.25 <= aged < 1.0
    await directory.register_node(node("n1"), 5.0)  # the next heartbeat
    renewed = await directory.node_beat_age_s("n1")
    assert renewed is not None and renewed < 0.1
    assert await directory.node_beat_age_s("nobody") is None
    await directory.remove_node("n1")
    assert await directory.node_beat_age_s("n1") is None
