"""docs/operations.md's ``/metrics`` table names every family a server exports, as it is.

Read from a live server's ``/metrics`` with prometheus_client's own parser: each
family's name, type and label names are in the table, and the table names no family
that is not exported; the ``limit`` and ``reason`` values listed are every one.
"""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

import gameserver
from gameserver.server import GameServer
from gameserver.server.web.prometheus import INPUT_DROPS, LIMIT_HITS

from .httpclient import get

OPERATIONS = Path(gameserver.__file__).resolve().parent.parent / "docs" / "operations.md"


def documented_families() -> dict[str, tuple[str, frozenset[str], str]]:
    """Family name -> (type, label names, meaning) from the table under ``### /metrics``."""
    text = OPERATIONS.read_text()
    start = text.index("\n### `/metrics`\n")
    table = re.search(r"\n(\|[^\n]*\n)+", text[start:])
    assert table is not None
    families = {}
    for line in table.group(0).strip().splitlines()[2:]:
        metrics, kind, labels, meaning = (
            cell.strip() for cell in line.strip().strip("|").split("|")
        )
        label_names = frozenset(re.findall(r"`(\w+)`", labels))
        for name in re.findall(r"`(\w+)`", metrics):
            families[name] = (kind, label_names, meaning)
    return families


def quoted_values(meaning: str) -> set[str]:
    return set(re.findall(r"`(\w+)`", meaning))


async def test_the_metrics_table_names_every_family_with_its_type_and_labels(
    fast_server: GameServer,
) -> None:
    scraped = await get(fast_server.port, "/metrics")
    exported = {}
    for family in text_string_to_metric_families(scraped.text):
        labels = {
            label
            for sample in family.samples
            for label in sample.labels
            if label != "le"  # a histogram's buckets
        }
        # A counter family is written without its _total suffix; the table has the samples'.
        name = f"{family.name}_total" if family.type == "counter" else family.name
        exported[name] = (family.type, frozenset(labels))
    documented = documented_families()
    assert set(exported) == set(documented), (
        f"not in the table: {sorted(set(exported) - set(documented))}; "
        f"in the table but not exported: {sorted(set(documented) - set(exported))}"
    )
    for name, (kind, labels) in exported.items():
        # A labelled family with nothing counted yet has no sample to show its labels.
        assert documented[name][0] == kind, name
        assert labels <= documented[name][1], name

    limits = quoted_values(documented["gameserver_limit_hits_total"][2])
    assert limits == set(LIMIT_HITS.values())
    reasons = quoted_values(documented["gameserver_input_drops_total"][2])
    assert reasons == set(INPUT_DROPS.values())
