"""Starting, watching and stopping the processes a benchmark measures.

Every process gets its own log file (a full pipe would stall a process that
logs every join). Stopping is always SIGTERM first, so the swarm prints its
summary and the server closes its connections, then SIGKILL after a bound.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"listening on (ws://\S+)")


class BenchmarkError(Exception):
    """A scenario could not be measured (a process died, joins timed out...)."""


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def server_tree(ref: str | None, workdir: Path) -> Path:
    """Source tree to run the server from: the work tree, or ``ref`` exported by ``git archive``.

    Exporting leaves the repository untouched and lets one run measure an
    older server (a baseline) with today's swarm and runner.
    """
    if ref is None:
        return REPO
    dest = workdir / f"server-{re.sub(r'[^A-Za-z0-9_.-]', '_', ref)}"
    if not dest.exists():
        dest.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", ref, "gameserver", "clients"],
            check=True,
            capture_output=True,
        )
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def python_env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    return env


class Managed:
    """A child process with a log file, stopped by SIGTERM then SIGKILL."""

    def __init__(
        self, name: str, args: Sequence[str], log_path: Path, *, cwd: Path, stdout: bool = False
    ) -> None:
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            list(args),
            cwd=cwd,
            env=python_env(cwd),
            stdout=subprocess.PIPE if stdout else self._log,
            stderr=self._log,
        )
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            raise BenchmarkError(
                f"{self.name} exited with {self.process.returncode}: {self.tail()}"
            )

    def tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self, timeout_s: float = 15.0) -> bytes:
        """SIGTERM, wait (bounded), SIGKILL if needed; returns stdout when it was captured."""
        out = b""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            out, _ = self.process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate(timeout=5)
        self._log.close()
        return out or b""


def wait_until(
    condition: Callable[[], bool], timeout_s: float, what: str, watch: Sequence[Managed] = ()
) -> float:
    """Poll ``condition`` every 50 ms; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        for process in watch:
            process.check_alive()
        if time.monotonic() - started > timeout_s:
            raise BenchmarkError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def read_json(path: Path) -> dict[str, Any] | None:
    """The stats document, or None if not written yet (writers replace it atomically)."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


def next_document(
    path: Path, *, newer_than: float, timeout_s: float, watch: Sequence[Managed] = ()
) -> dict[str, Any]:
    """The first stats document whose ``time_s`` is past ``newer_than``.

    Reading right after a write lines up our CPU readings with the server's
    own counters to within the polling period (10 ms).
    """
    found: dict[str, Any] = {}

    def fresh() -> bool:
        document = read_json(path)
        if document is not None and document["time_s"] > newer_than:
            found.update(document)
            return True
        return False

    started = time.monotonic()
    while not fresh():
        for process in watch:
            process.check_alive()
        if time.monotonic() - started > timeout_s:
            raise BenchmarkError(f"no fresh stats in {path} after {timeout_s:.0f}s")
        time.sleep(0.01)
    return found


@functools.cache
def _unlimited_connections(tree: Path) -> tuple[str, ...]:
    """All bots come from one address: lift the connection caps where the server has them."""
    usage = subprocess.run(
        [sys.executable, "-m", "gameserver", "serve", "--help"],
        capture_output=True, text=True, cwd=tree, env=python_env(tree), check=False,
    ).stdout  # fmt: skip
    flags = (
        "--max-connections",
        "--max-connections-per-address",
        "--max-http-connections-per-address",
    )
    return tuple(arg for flag in flags if f"{flag} " in usage for arg in (flag, "0"))


def start_game_server(
    tree: Path,
    workdir: Path,
    *,
    tick_rate: int,
    max_players: int,
    stats_window_s: float,
    extra_args: Sequence[str] = (),
) -> tuple[Managed, str, Path]:
    """``gameserver serve --port 0`` with a stats file; returns it, its URL and the stats path."""
    stats = Path(tempfile.mkstemp(prefix="stats-", suffix=".json", dir=workdir)[1])
    stats.unlink()
    server = Managed(
        "server",
        [
            sys.executable,
            "-m",
            "gameserver",
            "serve",
            "--port",
            "0",
            "--seed",
            "1",
            "--tick-rate",
            str(tick_rate),
            "--max-players",
            str(max_players),
            "--stats-file",
            str(stats),
            "--stats-window",
            str(stats_window_s),
            *_unlimited_connections(tree),
            *extra_args,
        ],
        workdir / f"server-{stats.stem}.log",
        cwd=tree,
    )
    url: list[str] = []

    def listening() -> bool:
        match = LISTENING.search(server.log_path.read_text(errors="replace"))
        if match:
            url.append(match.group(1))
        return bool(match)

    try:
        wait_until(listening, 30, "the server's listening line", [server])
        wait_until(lambda: read_json(stats) is not None, 30, "the first stats file", [server])
    except BaseException:
        server.stop()
        raise
    return server, url[0], stats


def start_lean_swarm(
    url: str,
    workdir: Path,
    *,
    players: int,
    spectators: int,
    procs: int,
    decode_sample: float,
    duration_s: float,
    connect_timeout_s: float = 10.0,
) -> Managed:
    """The lean swarm with the benchmark workload; it runs until stopped (SIGTERM)."""
    return Managed(
        "swarm",
        [
            sys.executable,
            "-m",
            "gameserver",
            "swarm",
            "--lean",
            "--url",
            url,
            "--bots",
            str(players),
            "--spectators",
            str(spectators),
            "--procs",
            str(procs),
            "--behaviour",
            "bench",
            "--decode-sample",
            str(decode_sample),
            "--duration",
            str(duration_s),
            "--connect-timeout",
            str(connect_timeout_s),
            "--json",
        ],
        workdir / f"swarm-{time.monotonic_ns()}.log",
        cwd=REPO,
        stdout=True,
    )


def start_peer_bots(
    url: str,
    workdir: Path,
    *,
    players: int,
    decode_sample: float,
    duration_s: float,
    connect_timeout_s: float = 10.0,
) -> Managed:
    """The lean swarm driving the benchmark game's own bot (``benchmarks.peerbots``)."""
    return Managed(
        "peer bots",
        [
            sys.executable,
            "-m",
            "benchmarks.peerbots",
            "--url",
            url,
            "--bots",
            str(players),
            "--decode-sample",
            str(decode_sample),
            "--duration",
            str(duration_s),
            "--connect-timeout",
            str(connect_timeout_s),
        ],
        workdir / f"peerbots-{time.monotonic_ns()}.log",
        cwd=REPO,
        stdout=True,
    )


def swarm_summary(raw: bytes) -> dict[str, Any]:
    """The swarm's JSON summary (its last stdout line), or an error note."""
    lines = raw.decode(errors="replace").strip().splitlines()
    try:
        summary: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, ValueError):
        return {"error": "no summary from the swarm"}
    return summary
