"""Reports of unreachable nodes: checked by a probe, bounded, and only a dead node evicted."""

from __future__ import annotations

import trio

from gameserver.server.cluster.directory import NodeInfo
from gameserver.server.cluster.directory.memory import MemoryDirectory
from gameserver.server.cluster.nodecheck import NodeChecker, ProbeResult, tcp_probe
from gameserver.server.metrics import Metrics

TTL_S = 10.0


def node(node_id: str, port: int = 9) -> NodeInfo:
    return NodeInfo(node_id, f"ws://127.0.0.1:{port}/ws", f"http://127.0.0.1:{port}/", 100, 0)


class FakeProbe:
    """Addresses in ``alive`` answer, those in ``silent`` time out, the others refuse."""

    def __init__(
        self, alive: set[str], silent: frozenset[str] = frozenset(), delay_s: float = 0.2
    ) -> None:
        self.alive = alive
        self.silent = silent
        self.delay_s = delay_s
        self.probed: list[str] = []

    async def __call__(self, http_url: str, timeout_s: float) -> ProbeResult:
        self.probed.append(http_url)
        if http_url in self.silent:
            await trio.sleep(timeout_s)
            return ProbeResult.TIMED_OUT
        await trio.sleep(self.delay_s)
        return ProbeResult.ANSWERED if http_url in self.alive else ProbeResult.REFUSED


async def checker_with(probe: FakeProbe) -> tuple[NodeChecker, MemoryDirectory, Metrics]:
    directory, metrics = MemoryDirectory(), Metrics()
    for name, port in (("self", 1), ("healthy", 2), ("dead", 3)):
        await directory.register_node(node(name, port), TTL_S)
    checker = NodeChecker(
        directory,
        metrics,
        own_node_id=lambda: "self",
        probe_timeout_s=1.0,
        probe_interval_s=2.0,
        beat_late_s=TTL_S / 2,
        probe=probe,
    )
    return checker, directory, metrics


async def live_nodes(directory: MemoryDirectory) -> list[str]:
    return [info.node_id for info in await directory.nodes()]


async def test_a_dead_node_is_evicted_at_once_and_a_healthy_one_never(
    autojump_clock: trio.abc.Clock,
) -> None:
    probe = FakeProbe(alive={node("healthy", 2).http_url})
    checker, directory, metrics = await checker_with(probe)
    assert await checker.report("dead") is True
    assert await live_nodes(directory) == ["healthy", "self"]
    assert metrics.nodes_evicted == 1
    # A hundred false reports, at once and over time, about the healthy node and this one.
    async with trio.open_nursery() as nursery:
        for _ in range(50):
            nursery.start_soon(checker.report, "healthy")
            nursery.start_soon(checker.report, "self")
    for _ in range(20):
        assert await checker.report("healthy") is False
        await trio.sleep(0.5)
        for name, port in (("self", 1), ("healthy", 2)):
            await directory.register_node(node(name, port), TTL_S)  # their heartbeats
    assert await live_nodes(directory) == ["healthy", "self"]
    assert metrics.nodes_evicted == 1 and metrics.node_reports == 121
    # One probe for the burst, then one per interval (2 s) over the 10 s that followed.
    healthy_probes = probe.probed.count(node("healthy", 2).http_url)
    assert 1 <= healthy_probes <= 1 + 10 / 2 + 1
    assert metrics.node_reports_refuted == healthy_probes
    assert metrics.node_reports_skipped == 121 - 1 - healthy_probes
    assert await checker.report("nobody-by-this-name") is False  # not listed: nothing probed
    assert len(probe.probed) == 1 + healthy_probes
    # Reports about unlisted nodes read the directory's list at most once per interval.
    reads = 0
    listing = directory.nodes

    async def counted() -> list[NodeInfo]:
        nonlocal reads
        reads += 1
        return await listing()

    directory.nodes = counted  # type: ignore[method-assign]
    for i in range(100):
        assert await checker.report(f"nobody-{i}") is False
    await trio.sleep(2.0)
    assert await checker.report("nobody-again") is False
    assert reads <= 2


async def test_a_probe_that_times_out_evicts_only_a_node_that_missed_a_heartbeat(
    autojump_clock: trio.abc.Clock,
) -> None:
    # Both nodes are silent to the probe (a filtered path, or a machine gone); only the
    # one whose heartbeats stopped is evicted.
    silent = frozenset({node("healthy", 2).http_url, node("dead", 3).http_url})
    checker, directory, metrics = await checker_with(FakeProbe(alive=set(), silent=silent))
    assert await checker.report("healthy") is False and await checker.report("dead") is False
    assert metrics.nodes_evicted == 0  # both beat a moment ago
    for second in range(6):  # 6 s: "healthy" keeps its heartbeat (every third of the ttl)
        await trio.sleep(1.0)
        if second % 3 == 0:
            for name, port in (("self", 1), ("healthy", 2)):
                await directory.register_node(node(name, port), TTL_S)
    assert await checker.report("healthy") is False
    assert await checker.report("dead") is True  # silent, and last heard from 6 s ago
    assert await live_nodes(directory) == ["healthy", "self"]


async def test_the_tcp_probe_tells_a_listener_from_a_closed_port() -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    assert await tcp_probe(f"http://127.0.0.1:{port}/", 1.0) is ProbeResult.ANSWERED
    for listener in listeners:
        await listener.aclose()
    assert await tcp_probe(f"http://127.0.0.1:{port}/", 1.0) is ProbeResult.REFUSED
    # What cannot be checked is never evicted.
    assert await tcp_probe("http://[not a url/", 1.0) is ProbeResult.ANSWERED
