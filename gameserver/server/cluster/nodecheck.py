"""Checking a client's word that a node is down, before matchmaking stops offering it.

Theory of operation: a client whose room's node cannot be reached says so with its next
match request (``"unreachable": NODE_ID``, or the room on it: FindMatch's
``unreachable_room``; docs/operations.md and docs/protocol.md 4.3b). Without that, the dead
node stays in the directory until its registration lapses (``node_ttl_s``, 10 s), and
matchmaking keeps sending players to it. A client's word alone is never enough, since
anyone can send it: this node probes the reported node itself, opening a TCP connection
to the node's registered HTTP address within ``node_probe_timeout_s``, and removes the
node from the directory, with its rooms, only on evidence of its own, so the booking
that follows and every later one go to live nodes at once:

- refused (or the host unreachable): nothing listens at the node's address, the process
  is gone (a SIGKILL, a crash, an OOM kill): evicted at once;
- timed out: the machine may be gone, or only the path from here to it may be slow or
  filtered; evicted only if the node has also missed a heartbeat (its last one is older
  than half of ``node_ttl_s``; they come every third), so that a probe that cannot get
  through never evicts a node that is still heart-beating;
- answered: the node stays.

States per reported node: unknown (not probed lately), probing (one probe in flight:
further reports wait for its outcome instead of probing again), answered (the probe
connected: reports are skipped until ``node_probe_interval_s`` has passed). A report
about this node itself, or about a node the directory does not list, changes nothing;
the list is read at most once per interval (a node dead but not yet lapsed is on it).
So a flood of false reports about a healthy node costs it at most one TCP connection per
interval from each matchmaking node, and the flood itself is bounded by the match
request limits it rides on.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import trio

from gameserver.server.cluster.directory import Directory, NodeInfo
from gameserver.server.metrics import Metrics

log = logging.getLogger(__name__)


class ProbeResult(enum.Enum):
    ANSWERED = "answered"
    REFUSED = "refused"  # or unreachable: nothing listens there
    TIMED_OUT = "timed out"


Probe = Callable[[str, float], Awaitable[ProbeResult]]


async def tcp_probe(http_url: str, timeout_s: float) -> ProbeResult:
    """Whether a TCP connection to ``http_url``'s host and port opens within ``timeout_s``.

    An address that cannot be parsed counts as answering: what cannot be checked is
    never evicted.
    """
    try:
        parts = urlsplit(http_url)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return ProbeResult.ANSWERED
    if not host:
        return ProbeResult.ANSWERED
    with trio.move_on_after(timeout_s):
        try:
            stream = await trio.open_tcp_stream(host, port)
        except OSError:
            return ProbeResult.REFUSED
        await stream.aclose()
        return ProbeResult.ANSWERED
    return ProbeResult.TIMED_OUT


class NodeChecker:
    """Verifies reports of unreachable nodes and evicts the nodes that fail the probe."""

    def __init__(
        self,
        directory: Directory,
        metrics: Metrics,
        *,
        own_node_id: Callable[[], str],
        probe_timeout_s: float,
        probe_interval_s: float,
        beat_late_s: float,
        probe: Probe = tcp_probe,
    ) -> None:
        self.directory = directory
        self.metrics = metrics
        self._own_node_id = own_node_id
        self.probe_timeout_s = probe_timeout_s
        self.probe_interval_s = probe_interval_s
        self.beat_late_s = beat_late_s  # a node whose last heartbeat is older missed one
        self._probe = probe
        self._answered_at: dict[str, float] = {}  # node id -> when its probe last connected
        self._probing: dict[str, trio.Event] = {}  # node id -> set when its probe is over
        self._nodes: dict[str, NodeInfo] | None = None  # the directory's list, as last read
        self._nodes_read_at = 0.0

    async def report(self, node_id: str) -> bool:
        """A client cannot reach ``node_id``: True if the node was found down and evicted."""
        self.metrics.node_reports += 1
        if node_id == self._own_node_id():
            self.metrics.node_reports_skipped += 1
            return False
        in_flight = self._probing.get(node_id)
        if in_flight is not None:
            await in_flight.wait()  # one probe answers every report made meanwhile
            self.metrics.node_reports_skipped += 1
            return False
        now = trio.current_time()
        self._forget_answers_before(now - self.probe_interval_s)
        if node_id in self._answered_at:
            self.metrics.node_reports_skipped += 1
            return False
        self._probing[node_id] = event = trio.Event()
        try:
            return await self._check(node_id)
        finally:
            del self._probing[node_id]
            event.set()

    async def report_room(self, room_id: str) -> bool:
        """A client cannot reach the node of ``room_id``: as ``report`` for that node.

        A room the directory does not know (or whose node is gone already) probes nothing.
        """
        room = await self.directory.room(room_id, now_s=time.time())
        if room is None:
            self.metrics.node_reports += 1
            self.metrics.node_reports_skipped += 1
            return False
        return await self.report(room.node_id)

    async def _listed(self, node_id: str) -> NodeInfo | None:
        """The node as the directory lists it; the list is read at most once per interval,
        so that reports about unlisted nodes cost the directory nothing."""
        now = trio.current_time()
        if self._nodes is None or now - self._nodes_read_at >= self.probe_interval_s:
            self._nodes = {node.node_id: node for node in await self.directory.nodes()}
            self._nodes_read_at = now
        return self._nodes.get(node_id)

    async def _check(self, node_id: str) -> bool:
        node = await self._listed(node_id)
        if node is None:  # gone already (or never was): nothing to do, nothing to probe
            self.metrics.node_reports_skipped += 1
            return False
        result = await self._probe(node.http_url, self.probe_timeout_s)
        if result is ProbeResult.TIMED_OUT:
            age_s = await self.directory.node_beat_age_s(node_id)
            if age_s is not None and age_s <= self.beat_late_s:
                result = ProbeResult.ANSWERED  # it is still heart-beating: keep it
        if result is ProbeResult.ANSWERED:
            self._answered_at[node_id] = trio.current_time()
            self.metrics.node_reports_refuted += 1
            return False
        await self.directory.remove_node(node_id)
        if self._nodes is not None:
            self._nodes.pop(node_id, None)
        self.metrics.nodes_evicted += 1
        log.warning(
            "node %s did not answer a probe of %s (%s) after a client reported it "
            "unreachable: removed from the directory with its rooms",
            node_id,
            node.http_url,
            result.value,
        )
        return True

    def _forget_answers_before(self, oldest: float) -> None:
        for node_id in [n for n, at in self._answered_at.items() if at <= oldest]:
            del self._answered_at[node_id]
