"""Summaries of py-spy's collapsed stacks."""

from __future__ import annotations

import pytest

from benchmarks.profile import function_name, package_of, summarize

RUN = "run (trio/_core/_run.py:2532)"
STACKS = [
    f"{RUN};tick (gameserver/server/rooms/room.py:107);dumps (cbor2/_encoder.py:90) 30",
    f"{RUN};tick (gameserver/server/rooms/room.py:108);diff (gameserver/protocol/_delta.py:30) 50",
    f"{RUN};get_events (trio/_core/_io_epoll.py:243) 20",
    "garbage without a count",
]


def test_line_numbers_are_dropped_from_function_names() -> None:
    assert (
        function_name("tick (gameserver/server/rooms/room.py:107)")
        == "tick (gameserver/server/rooms/room.py)"
    )


def test_packages_group_files() -> None:
    assert package_of("get_events (trio/_core/_io_epoll.py:243)") == "trio"
    assert package_of("diff (gameserver/protocol/_delta.py:30)") == "gameserver/protocol"
    assert package_of("f (/x/lib/python3.11/site-packages/wsproto/frame.py:9)") == "wsproto"
    assert package_of("select (selectors.py:3)") == "(stdlib) selectors.py"


def test_summary_percentages() -> None:
    summary = summarize(STACKS)
    assert summary["samples"] == 100
    top_self = {row["function"]: row["percent"] for row in summary["top_self"]}
    assert top_self["diff (gameserver/protocol/_delta.py)"] == pytest.approx(50.0)
    inclusive = {row["function"]: row["percent"] for row in summary["top_inclusive"]}
    # Two lines of the same function count once per stack, not once per line.
    assert inclusive["tick (gameserver/server/rooms/room.py)"] == pytest.approx(80.0)
    assert inclusive["run (trio/_core/_run.py)"] == pytest.approx(100.0)
    packages = {row["function"]: row["percent"] for row in summary["self_by_package"]}
    assert packages == {"gameserver/protocol": 50.0, "cbor2": 30.0, "trio": 20.0}
