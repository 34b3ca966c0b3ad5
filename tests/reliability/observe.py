"""Reading what the system did: runner records straight from the table, tasks from moto."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from ecsrunner_core.adapters.dynamodb_codec import COUNTER_KEY, JOB_PREFIX, RUNNER_PREFIX, runner_from_item
from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.domain.status import RunnerStatus

from tests.lifecycle.support import World

LAUNCHED_STATUSES = frozenset({RunnerStatus.WAITING_FOR_JOB, RunnerStatus.RUNNING})


def raw_items(world: World) -> list[dict[str, Any]]:
    pages = (
        world.client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=world.settings.runner_table, ConsistentRead=True)
    )
    return [item for page in pages for item in page["Items"]]


def runner_records(world: World) -> dict[str, RunnerRecord]:
    return {
        item["runner_name"]["S"]: runner_from_item(item)
        for item in raw_items(world)
        if item["pk"]["S"].startswith(RUNNER_PREFIX)
    }


def job_guards(world: World) -> dict[int, str]:
    """Job id -> runner name, from the ``JOB#`` guard items."""
    return {
        int(item["pk"]["S"][len(JOB_PREFIX) :]): item["runner_name"]["S"]
        for item in raw_items(world)
        if item["pk"]["S"].startswith(JOB_PREFIX)
    }


def active_slots(world: World) -> int:
    for item in raw_items(world):
        if item["pk"]["S"] == COUNTER_KEY:
            return int(item.get("active", {}).get("N", "0"))
    return 0


def was_launched(record: RunnerRecord) -> bool:
    """A task was started for the runner (its ARN is recorded, or ECS reported it running)."""
    return record.task_arn is not None or any(entry.status in LAUNCHED_STATUSES for entry in record.history)


def launch_attempts(record: RunnerRecord) -> int:
    """Launch attempts the runner used: the failed ones plus the one that started its task."""
    return record.attempts + (1 if was_launched(record) else 0)


def live_tasks(world: World) -> list[dict[str, Any]]:
    """Tasks of the cluster ECS still runs (desired status RUNNING)."""
    return world.tasks("RUNNING")


def duplicates(values: list[Any]) -> dict[Any, int]:
    return {value: count for value, count in Counter(values).items() if count > 1}


def runners_allowed(records: Iterable[RunnerRecord]) -> dict[int, int]:
    """Per job id, how many runner records it may have: one, plus one per replacement the control
    plane had to make (each names a runner of the same job that took another job, and no other
    replacement names the same runner)."""
    by_job: dict[int, dict[str, RunnerRecord]] = defaultdict(dict)
    for record in records:
        by_job[record.job_id][record.runner_name] = record
    allowed: dict[int, int] = {}
    for job_id, runners in by_job.items():
        replaced = Counter(r.replaces for r in runners.values() if r.replaces is not None)
        allowed[job_id] = 1 + sum(
            1
            for name, times in replaced.items()
            if times == 1 and name in runners and runners[name].run_job_id not in (None, job_id)
        )
    return allowed


def duplicated_jobs(records: Iterable[RunnerRecord]) -> dict[int, int]:
    """Job id -> runner records beyond what :func:`runners_allowed` allows (empty: no duplicate)."""
    records = list(records)
    allowed = runners_allowed(records)
    counts = Counter(r.job_id for r in records)
    return {job: count - allowed[job] for job, count in counts.items() if count > allowed[job]}
