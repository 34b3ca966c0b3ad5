"""The janitor reads only active runners: a Query of the status index per active status, never a
Scan, and the same reads with 200 or 2,000 terminal records in the table (asserted on the calls)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ecsrunner_core.adapters.dynamodb_codec import runner_to_item
from ecsrunner_core.domain.names import new_runner_name
from ecsrunner_core.domain.runner import new_runner_record
from ecsrunner_core.domain.status import ACTIVE_STATUSES, RunnerStatus
from ecsrunner_core.usecases.janitor import run_janitor

from tests.lifecycle.support import World

ACTIVE = 5


def add_terminal_records(world: World, count: int) -> None:
    """Terminal runners of the past, written as the store writes them (same item format)."""
    db = world.client("dynamodb")
    start = world.clock.now() - timedelta(days=20)
    items = []
    for index in range(count):
        at = start + timedelta(minutes=index)
        record = new_runner_record(
            runner_name=new_runner_name(world.settings.name),
            job_id=5_000_000_000 + index,
            repository="octo-org/octo-repo",
            labels=("self-hosted", "linux"),
            at=at,
            reason="job queued",
            class_name="medium",
        )
        status = RunnerStatus.OFFLINE if index % 3 else RunnerStatus.FAILED
        ended = record.transition(status, "task stopped", at + timedelta(minutes=9))
        assert ended is not None
        items.append(runner_to_item(ended, int((at + timedelta(days=30)).timestamp())))
    for offset in range(0, len(items), 25):
        requests: list[dict[str, Any]] = [
            {"PutRequest": {"Item": item}} for item in items[offset : offset + 25]
        ]
        db.batch_write_item(RequestItems={world.settings.runner_table: requests})


def count_runner_items(world: World) -> int:
    pages = (
        world.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=world.settings.runner_table,
            Select="COUNT",
            FilterExpression="begins_with(pk, :runner)",
            ExpressionAttributeValues={":runner": {"S": "RUNNER#"}},
        )
    )
    return sum(int(page["Count"]) for page in pages)


def add_active_runners(world: World) -> None:
    for index in range(ACTIVE):
        record = world.queue_runner()
        if index >= 2:
            world.task_running(record)
        if index >= 3:
            world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)


def is_lease(call: Any) -> bool:
    """The janitor's one-at-a-time lease: one put and one delete per run, whatever the history."""
    return call.params.get("Item", call.params.get("Key", {})).get("pk") == {"S": "LEASE#janitor"}


def janitor_reads(world: World) -> tuple[list[str], list[dict[str, Any]], int]:
    mark = world.calls.mark()
    report = run_janitor(world.deps())
    assert report.active_seen == ACTIVE and report.errors == []
    calls = [c for c in world.calls.since(mark) if c.service == "dynamodb" and not is_lease(c)]
    queries = [c.params for c in calls if c.operation == "Query"]
    read = sum(int((c.response or {}).get("Count", 0)) for c in calls if c.operation == "Query")
    return [c.operation for c in calls], queries, read


def test_the_janitor_reads_the_same_with_200_or_2000_terminal_records(world: World) -> None:
    add_active_runners(world)
    add_terminal_records(world, 200)
    world.clock.advance(60)
    operations_200, queries_200, read_200 = janitor_reads(world)

    add_terminal_records(world, 1800)
    assert count_runner_items(world) == 2000 + ACTIVE
    world.clock.advance(60)
    operations_2000, queries_2000, read_2000 = janitor_reads(world)

    # One Query per active status, one of the sparse waiting index for the launches it may retry,
    # and at most one read of the GitHub rate-limit pause item (cached for a few seconds): nothing
    # that grows with the terminal history.
    for operations in (operations_200, operations_2000):
        assert [op for op in operations if op != "GetItem"] == ["Query"] * (len(ACTIVE_STATUSES) + 1)
        assert operations.count("GetItem") <= 1
    assert read_200 == read_2000 == ACTIVE  # the STARTING runners have tasks: none waits
    assert queries_200[:-1] == queries_2000[:-1]
    *by_status, waiting = queries_2000
    for query in by_status:
        assert query["IndexName"] == "status-index"
        assert query["KeyConditionExpression"] == "#s = :s"
        assert query["ExpressionAttributeNames"] == {"#s": "status"}
    assert [q["ExpressionAttributeValues"][":s"]["S"] for q in by_status] == [
        s.value for s in ACTIVE_STATUSES
    ]
    assert waiting["IndexName"] == "waiting-index"


def test_the_janitor_never_scans(world: World) -> None:
    add_active_runners(world)
    add_terminal_records(world, 50)
    world.clock.advance(world.settings.waiting_for_job_timeout_seconds + 1)  # make it act, too
    mark = world.calls.mark()
    report = run_janitor(world.deps())
    assert report.timed_out == 3  # 2 STARTING with tasks + 1 WAITING_FOR_JOB (900 s / 1800 s)
    names = {c.operation for c in world.calls.since(mark) if c.service == "dynamodb" and not is_lease(c)}
    assert "Scan" not in names
    assert names <= {"Query", "GetItem", "PutItem", "TransactWriteItems"}
    reads = [c for c in world.calls.since(mark) if c.operation in ("Query", "GetItem")]
    read_items = sum(
        int((c.response or {}).get("Count", 1 if c.operation == "GetItem" else 0)) for c in reads
    )
    assert read_items < 50  # it acted on the active runners only
