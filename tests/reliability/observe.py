"""Reading what the system did: runner records straight from the table, tasks from moto."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from ecsrunner_core.adapters.dynamodb_codec import COUNTER_KEY, JOB_PREFIX, RUNNER_PREFIX, runner_from_item
from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.domain.status import RunnerStatus
from moto.dynamodb.models import dynamodb_backends

from tests.lifecycle.support import World

LAUNCHED_STATUSES = frozenset({RunnerStatus.WAITING_FOR_JOB, RunnerStatus.RUNNING})


def raw_items(world: World) -> list[dict[str, Any]]:
    """Every item of the runner table in DynamoDB's wire format, read from moto's backend: what a
    consistent Scan returns, without serialising the whole table through the API on every check."""
    account = world.client("sts").get_caller_identity()["Account"]
    region = world.client("dynamodb").meta.region_name
    table = dynamodb_backends[account][region].get_table(world.settings.runner_table)
    return [item.to_json()["Attributes"] for item in table.all_items()]


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


def duplicated_jobs(records: Iterable[RunnerRecord]) -> dict[int, int]:
    """Job id -> how far its runner records are from one chain of successors (empty: no duplicate).

    A job has one runner record, plus one successor per runner of it that could no longer take it
    (it took another job, ended before taking one, or was retired while the job waited): each
    successor names the runner it replaces, of the same job, and no runner is replaced twice.
    """
    by_job: dict[int, dict[str, RunnerRecord]] = defaultdict(dict)
    for record in records:
        if record.pool is None or record.job_id:
            by_job[record.job_id][record.runner_name] = record
    found: dict[int, int] = {}
    for job_id, runners in by_job.items():
        replaced = Counter(r.replaces for r in runners.values() if r.replaces is not None)
        firsts = [r for r in runners.values() if r.replaces is None or r.replaces not in runners]
        twice = sum(times - 1 for times in replaced.values())
        extra = max(len(firsts) - 1, 0) + twice
        if extra:
            found[job_id] = extra
    return found


def live_idle_per_job(records: Iterable[RunnerRecord]) -> dict[int, int]:
    """Job id -> its live runners that have not taken a job: more than one is two runners for one
    job at once."""
    counts: Counter[int] = Counter(
        r.job_id for r in records if not r.terminal and not r.took_job and (r.pool is None or r.job_id)
    )
    return dict(counts)
