"""The Colyseus peer (``shared/peers/colyseus``) measured the way this server is.

The peer is a Colyseus 0.18 server (``server.mjs``) running the benchmark game's rules and
its bot swarm (``bots.mjs``). Its folder is found beside the checkout (or at
``$GAMESERVER_COLYSEUS_PEER``), copied to a cache directory named for the hash of its
``package-lock.json``, and ``npm ci`` runs there once per lock file; every run copies the
peer's own files again so an edited peer is measured as it is. Without the folder, Node.js
or npm, :func:`prepare` raises :class:`PeerUnavailable` with the reason, and the caller
skips the peer.

One measurement: start the server on a free port, note its idle RSS, start N bots, wait
until they have all joined, settle, then ask both processes for their counters (a
``snap`` line on their stdin), read the server's CPU from /proc, wait the window, and do
the same again. The figures are named as this server's are, so the two can be compared
key by key: CPU per player-tick is server CPU over the window per player per tick the
peer actually ran; bytes are the WebSocket payload and wire bytes the bots received.
The peer has no tick duration percentiles; its own counters give the mean time spent in
its simulation per tick and in ``broadcastPatch`` per patch, and the ticks it ran
against the ticks the window held.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

from . import figures, procfs
from .processes import REPO, BenchmarkError, progress

PEER_FILES = ("package.json", "package-lock.json", "server.mjs", "bots.mjs")
NPM_DONE = ".npm-ci-done"  # written after a successful `npm ci`, holding the lock's hash
TICK_RATE = 30  # the peer's fixed rate
# The peer's input message: Colyseus ROOM_DATA (1 byte), the msgpack string "input" (6)
# and the msgpack map {dx, dy} (9); used only to size the floor's client messages.
INPUT_PAYLOAD_BYTES = 16


class PeerUnavailable(Exception):
    """The peer cannot run here (no folder, no Node.js, npm failed); the message says why."""


def find_peer() -> Path | None:
    configured = os.environ.get("GAMESERVER_COLYSEUS_PEER")
    candidates = [Path(configured)] if configured else []
    candidates += [
        REPO.parent / "shared/peers/colyseus",
        REPO.parent.parent / "shared/peers/colyseus",
    ]
    return next((c for c in candidates if (c / "server.mjs").is_file()), None)


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gameserver-bench"


def prepare() -> Path:
    """The peer's runnable copy (``npm ci`` done once per lock file); PeerUnavailable if not."""
    source = find_peer()
    if source is None:
        raise PeerUnavailable(
            "no Colyseus peer beside the checkout (shared/peers/colyseus); "
            "set GAMESERVER_COLYSEUS_PEER to its folder"
        )
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise PeerUnavailable(f"`{tool}` is not on PATH (the peer needs Node.js 20)")
    missing = [name for name in PEER_FILES if not (source / name).is_file()]
    if missing:
        raise PeerUnavailable(f"the peer at {source} lacks {', '.join(missing)}")
    lock_hash = hashlib.sha256((source / "package-lock.json").read_bytes()).hexdigest()[:12]
    work = cache_root() / f"colyseus-{lock_hash}"
    work.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file():
            shutil.copy2(path, work / path.name)
    done = work / NPM_DONE
    if not (done.is_file() and done.read_text() == lock_hash):
        progress(f"colyseus: npm ci in {work} (once per package-lock.json)")
        installed = subprocess.run(
            ["npm", "ci", "--silent", "--no-audit", "--no-fund"],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if installed.returncode != 0:
            raise PeerUnavailable(f"npm ci failed in {work}: {installed.stderr.strip()[-300:]}")
        done.write_text(lock_hash)
    return work


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class NodeProcess:
    """A peer process: JSON lines from its stdout kept by type, ``snap`` asked on its stdin."""

    def __init__(self, name: str, args: list[str], cwd: Path, env: dict[str, str], log: Path):
        self.name = name
        self.log_path = log
        self._log = open(log, "w")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
        )
        self.pid = self.process.pid
        self._lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,))
        self._reader.daemon = True
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for raw in stream:
            try:
                item = json.loads(raw)
            except ValueError:
                continue
            if isinstance(item, dict):
                self._lines.put(item)

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-5:]
            raise BenchmarkError(
                f"{self.name} exited with {self.process.returncode}: {' | '.join(tail)}"
            )

    def wait_for(self, kind: str, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            self.check_alive()
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchmarkError(f"{self.name}: no {kind!r} line after {timeout_s:.0f}s")
            try:
                item = self._lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if item.get("type") == kind:
                return item

    def snap(self) -> dict[str, Any]:
        while not self._lines.empty():  # older lines would answer for the wrong moment
            self._lines.get_nowait()
        assert self.process.stdin is not None
        self.process.stdin.write("snap\n")
        self.process.stdin.flush()
        return self.wait_for("snap", 10)

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        self._log.close()


def measure_colyseus(
    work: Path, players: int, *, window_s: float, settle_s: float, logdir: Path
) -> dict[str, Any]:
    """The peer server with ``players`` peer bots: the figures of one window."""
    port = free_port()
    join_timeout = 60 + players / 10
    bots_duration = int(join_timeout + settle_s + window_s + 30)
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1")
    env["MAX_LIFETIME_S"] = str(bots_duration + 60)  # the peer never outlives a lost run
    stamp = time.monotonic_ns()
    progress(f"colyseus: starting the server on port {port}")
    server = NodeProcess(
        "colyseus server", ["node", "server.mjs"], work, env, logdir / f"colyseus-{stamp}.log"
    )
    bots: NodeProcess | None = None
    try:
        listening = server.wait_for("listening", 30)
        time.sleep(1.0)
        rss_idle = procfs.rss_bytes(server.pid)
        bots = NodeProcess(
            "colyseus bots",
            ["node", "bots.mjs", str(players), str(bots_duration)],
            work,
            dict(os.environ, URL=f"ws://127.0.0.1:{port}"),
            logdir / f"colyseus-bots-{stamp}.log",
        )
        progress(f"colyseus: {players} bots joining")
        started = time.monotonic()
        joined = bots.wait_for("joined", join_timeout)
        join_s = time.monotonic() - started
        if joined["joined"] != players:
            raise BenchmarkError(f"colyseus: only {joined['joined']} of {players} bots joined")
        progress(f"colyseus: joined in {join_s:.1f}s; settling {settle_s:.0f}s")
        time.sleep(settle_s)
        progress(f"colyseus: measuring {window_s:.0f}s")
        b0, s0 = bots.snap(), server.snap()
        wall0 = time.monotonic()
        cpu0, bot_cpu0 = procfs.cpu_seconds(server.pid), procfs.cpu_seconds(bots.pid)
        while time.monotonic() < wall0 + window_s:
            server.check_alive()
            bots.check_alive()
            time.sleep(0.1)
        wall1 = time.monotonic()
        cpu1, bot_cpu1 = procfs.cpu_seconds(server.pid), procfs.cpu_seconds(bots.pid)
        rss = procfs.rss_bytes(server.pid)
        b1, s1 = bots.snap(), server.snap()
    finally:
        if bots is not None:
            bots.stop()
        server.stop()
    wall = wall1 - wall0
    server_cpu, bot_cpu = cpu1 - cpu0, bot_cpu1 - bot_cpu0
    clients = int(b1["joined"])
    bot_window = (b1["t_ms"] - b0["t_ms"]) / 1000
    server_window = (s1["t_ms"] - s0["t_ms"]) / 1000
    ticks = s1["ticks"] - s0["ticks"]
    patches = s1["patches"] - s0["patches"]

    def bots_delta(key: str) -> float:
        return float(b1[key] - b0[key])

    received_patches = bots_delta("patches")
    return {
        "server": "colyseus",
        "colyseus_core": listening.get("colyseus_core"),
        "colyseus_schema": listening.get("colyseus_schema"),
        "node": listening.get("node"),
        "players": clients,
        "window_s": round(wall, 3),
        "ticks": ticks,
        "ticks_expected": round(server_window * TICK_RATE),
        "ticks_per_s": round(ticks / server_window, 2),
        "server_cpu_s": round(server_cpu, 3),
        "server_cpu_cores": round(server_cpu / wall, 3),
        "server_cpu_us_per_player_tick": round(
            figures.per_item_tick_us(server_cpu, clients, ticks), 3
        ),
        "server_cpu_us_per_snapshot": round(server_cpu * 1e6 / max(1.0, received_patches), 3),
        "sim_ms_per_tick_mean": round((s1["sim_ms"] - s0["sim_ms"]) / max(1, ticks), 3),
        "patch_ms_per_patch_mean": round((s1["patch_ms"] - s0["patch_ms"]) / max(1, patches), 3),
        "snapshots_per_conn_s": round(
            figures.per_item_second(received_patches, clients, bot_window), 2
        ),
        "out_message_bytes_mean": round(bots_delta("patch_bytes") / received_patches, 1)
        if received_patches
        else 0,
        "in_message_bytes_mean": INPUT_PAYLOAD_BYTES,
        "payload_bytes_out_per_player_s": round(
            figures.per_item_second(bots_delta("bytes"), clients, bot_window), 1
        ),
        "wire_bytes_out_per_conn_s": round(
            figures.per_item_second(bots_delta("ws_bytes"), clients, bot_window), 1
        ),
        "server_rss_mb": round(rss / 2**20, 2),
        "server_rss_idle_mb": round(rss_idle / 2**20, 2),
        "server_rss_per_conn_kb": round((rss - rss_idle) / 1024 / max(1, clients), 2),
        "swarm_cpu_cores": round(bot_cpu / wall, 3),
        "inputs_per_conn_s": round(
            figures.per_item_second(bots_delta("sent"), clients, bot_window), 2
        ),
        "errors": b1["errors"],
        "join_failed": b1["join_failed"],
        "drops": b1["drops"],
        "join_s": round(join_s, 2),
    }
