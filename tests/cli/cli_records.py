"""Runner records for CLI tests, written with the core's store and codec (as the Lambdas write them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ecsrunner_core.adapters.dynamodb_codec import runner_to_item
from ecsrunner_core.domain.runner import HistoryEntry, RunnerRecord, new_runner_record
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.wiring import Services

REPOSITORY = "octo-org/octo-repo"
IMAGE = "docker.io/library/ubuntu:22.04"


def runner(
    name: str,
    *,
    job_id: int,
    age: timedelta,
    status: RunnerStatus = RunnerStatus.RUNNING,
    reason: str | None = None,
    now: datetime | None = None,
    **fields: Any,
) -> RunnerRecord:
    """A record created ``age`` ago that went STARTING -> ``status`` half-way through its life."""
    created = (now or datetime.now(UTC)) - age
    record = new_runner_record(
        runner_name=name,
        job_id=job_id,
        repository=REPOSITORY,
        labels=("self-hosted", "linux"),
        at=created,
        reason=f"job {job_id} queued",
        class_name="medium",
        image=IMAGE,
        image_tag="ubuntu-22.04-x86_64-0123456789abcdef0123456789abcdef01234567",
        architecture="x86_64",
    )
    if status is not RunnerStatus.STARTING:
        moved_at = created + age / 2
        text = reason or f"moved to {status.value}"
        record = replace(
            record,
            status=status,
            status_reason=text,
            updated_at=moved_at,
            history=(*record.history, HistoryEntry(status, moved_at, text)),
        )
    return replace(record, **fields) if fields else record


def create(services: Services, *records: RunnerRecord) -> None:
    for record in records:
        assert services.store.create(record)


def bulk_write(services: Services, records: list[RunnerRecord]) -> None:
    """Many records quickly: the store's own item format, written with BatchWriteItem.

    ``store.create`` is a transaction, and moto copies the whole table for every transaction, which
    makes thousands of them quadratic; the items are the ones the store writes.
    """
    db = services.client("dynamodb")
    table = services.settings.runner_table
    for start in range(0, len(records), 25):
        requests = [{"PutRequest": {"Item": runner_to_item(r)}} for r in records[start : start + 25]]
        db.batch_write_item(RequestItems={table: requests})
