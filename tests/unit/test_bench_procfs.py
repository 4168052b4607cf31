"""Parsing /proc for the benchmarks: CPU ticks, parent pid, resident memory."""

from __future__ import annotations

import os

import pytest

from benchmarks import procfs

# A real /proc/PID/stat line, with a command name holding spaces and a parenthesis.
STAT = (
    "4242 (python -m (x) y) S 4200 4242 4200 0 -1 4194304 3302 0 0 0 "
    "157 23 0 0 20 0 3 0 123456 456789012 9001 18446744073709551615 1 1 0 0 0 0 0 "
    "16781312 16386 0 0 0 17 1 0 0 0 0 0"
)

STATUS = """Name:\tpython
State:\tS (sleeping)
VmPeak:\t  400000 kB
VmRSS:\t   36044 kB
Threads:\t3
"""


def test_cpu_ticks_are_utime_plus_stime() -> None:
    assert procfs.cpu_ticks(STAT) == 157 + 23


def test_parent_pid_survives_odd_command_names() -> None:
    assert procfs.parent_pid(STAT) == 4200


def test_rss_is_read_in_bytes() -> None:
    assert procfs.rss_bytes_from_status(STATUS) == 36044 * 1024
    assert procfs.rss_bytes_from_status("Name:\tzombie\n") == 0


def test_runqueue_wait_is_the_second_schedstat_field() -> None:
    assert procfs.runqueue_wait_ns("5124000812 73100441 2201\n") == 73100441


def test_readers_work_on_this_process() -> None:
    if not os.path.exists("/proc/self/stat"):
        pytest.skip("no /proc")
    pid = os.getpid()
    assert procfs.cpu_seconds(pid) > 0
    assert procfs.rss_bytes(pid) > 1024 * 1024
    assert pid in procfs.descendants(pid)
    assert procfs.tree_cpu_seconds([pid, 2**22 + 12345]) > 0  # a missing pid counts 0
    if os.path.exists("/proc/self/schedstat"):
        assert procfs.runqueue_wait_seconds(pid) >= 0
