"""The campaigns read the runner table straight from moto's backend: it must be what a Scan returns."""

from __future__ import annotations

from typing import Any

from tests.lifecycle.support import World
from tests.reliability.observe import raw_items


def _scan(world: World) -> list[dict[str, Any]]:
    pages = (
        world.client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=world.settings.runner_table, ConsistentRead=True)
    )
    return [item for page in pages for item in page["Items"]]


def _key(item: dict[str, Any]) -> str:
    return str(item["pk"]["S"])


def test_raw_items_are_what_a_consistent_scan_returns(world: World) -> None:
    for _ in range(3):
        world.queue()
    scanned = sorted(_scan(world), key=_key)
    assert len(scanned) > 3  # runner records, job guards, the slot counter
    assert sorted(raw_items(world), key=_key) == scanned
