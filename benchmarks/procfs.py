"""Process CPU time and memory from /proc (Linux), parsed by small pure functions."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def stat_fields(text: str) -> list[str]:
    """Fields of /proc/PID/stat after the command name, which may hold spaces and parens.

    The returned list starts at field 3 (state), so field N of proc(5) is ``[N - 3]``.
    """
    return text[text.rindex(")") + 2 :].split()


def cpu_ticks(text: str) -> int:
    """utime + stime (fields 14 and 15, clock ticks) of a /proc/PID/stat text."""
    fields = stat_fields(text)
    return int(fields[11]) + int(fields[12])


def parent_pid(text: str) -> int:
    """ppid (field 4) of a /proc/PID/stat text."""
    return int(stat_fields(text)[1])


def rss_bytes_from_status(text: str) -> int:
    """VmRSS of a /proc/PID/status text, in bytes (0 if absent: a zombie)."""
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            assert unit == "kB", unit
            return int(value) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads)."""
    return cpu_ticks(Path(f"/proc/{pid}/stat").read_text()) / CLOCK_TICKS


def runqueue_wait_ns(text: str) -> int:
    """Time spent ready to run but waiting for a CPU (ns): field 2 of /proc/PID/schedstat."""
    return int(text.split()[1])


def runqueue_wait_seconds(pid: int) -> float:
    """Seconds the main thread of ``pid`` (a trio loop's) waited for a CPU while runnable."""
    return runqueue_wait_ns(Path(f"/proc/{pid}/schedstat").read_text()) / 1e9


def rss_bytes(pid: int) -> int:
    return rss_bytes_from_status(Path(f"/proc/{pid}/status").read_text())


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, found by scanning /proc for parent links."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            ppid = parent_pid(Path(entry.path, "stat").read_text())
        except (OSError, ValueError):
            continue  # the process ended while we looked
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def tree_cpu_seconds(pids: list[int]) -> float:
    """Summed CPU seconds of ``pids``; a process that is gone counts 0."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # the process ended: nothing to add
            total += cpu_seconds(pid)
    return total
