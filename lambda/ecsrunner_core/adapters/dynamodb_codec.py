"""Runner and image records <-> DynamoDB attribute maps (low-level client format)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ..domain.images import ImageRecord, ImageState
from ..domain.runner import HistoryEntry, RunnerRecord
from ..domain.status import RunnerStatus

RUNNER_PREFIX = "RUNNER#"
JOB_PREFIX = "JOB#"
IMAGE_PREFIX = "IMAGE#"
BUILD_PREFIX = "BUILD#"
COUNTER_KEY = "COUNTER#active"
PAUSE_PREFIX = "PAUSE#"
IMAGE_INDEX_PARTITION = "#IMAGE"  # image items share the status index under this partition
REPO_INDEX_PARTITION = "#REPO"  # repositories that sent jobs (organisation scope), by last job
REPO_PREFIX = "REPO#"
DELIVERY_PREFIX = "DELIVERY#"
WAITING_ATTRIBUTE = "waiting"
WAITING_PARTITION = "STARTING"
WARM_PREFIX = "WARM#"  # waiting-index partition of a pool's idle, unclaimed warm runners
DUE_ATTRIBUTE = "due_at"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def time_text(value: datetime) -> str:
    """Fixed-width UTC ISO-8601, so that string order is time order in the index."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _required_time(value: Any) -> datetime:
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError("record without a timestamp")
    return parsed


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | Decimal) else None


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def runner_key(name: str) -> dict[str, Any]:
    return {"pk": {"S": RUNNER_PREFIX + name}}


def runner_to_item(record: RunnerRecord, expires_at: int | None = None) -> dict[str, Any]:
    return serialize(
        {
            "pk": RUNNER_PREFIX + record.runner_name,
            "runner_name": record.runner_name,
            "status": record.status.value,
            "status_reason": record.status_reason,
            "created_at": time_text(record.created_at),
            "updated_at": time_text(record.updated_at),
            "history": [
                {"status": h.status.value, "at": time_text(h.at), "reason": h.reason} for h in record.history
            ],
            "job_id": record.job_id,
            "repository": record.repository,
            "labels": list(record.labels),
            "class_name": record.class_name,
            "image": record.image,
            "image_tag": record.image_tag,
            "architecture": record.architecture,
            "run_id": record.run_id,
            "run_url": record.run_url,
            "workflow_name": record.workflow_name,
            "job_name": record.job_name,
            "run_job_id": record.run_job_id,
            "run_job_repository": record.run_job_repository,
            "conclusion": record.conclusion,
            "task_arn": record.task_arn,
            "github_runner_id": record.github_runner_id,
            "attempts": record.attempts,
            "last_error": record.last_error,
            "next_attempt_at": time_text(record.next_attempt_at) if record.next_attempt_at else None,
            "holds_slot": record.holds_slot,
            "replaces": record.replaces,
            "job_queued_at": time_text(record.job_queued_at) if record.job_queued_at else None,
            "task_started_at": time_text(record.task_started_at) if record.task_started_at else None,
            "relaunches": record.relaunches or None,
            "on_demand": record.on_demand or None,
            "verify_queued": record.verify_queued or None,
            "refusal": record.refusal,
            "pool": record.pool,
            "version": record.version,
            "expires_at": expires_at,
            **waiting_attributes(record),
        }
    )


def waiting_attributes(record: RunnerRecord) -> dict[str, str]:
    """The sparse ``waiting-index`` keys. A STARTING runner without a task carries them (it waits
    for a slot, a retry or a GitHub pause), so freeing a slot reads the next one, not a partition;
    so does an idle warm runner nobody claimed (``WARM#<pool>``, oldest idle first), so a queued
    job reads the one warm runner it claims."""
    if record.status is RunnerStatus.STARTING and record.task_arn is None:
        due = record.next_attempt_at or record.created_at
        return {WAITING_ATTRIBUTE: WAITING_PARTITION, DUE_ATTRIBUTE: time_text(due)}
    if record.pool and not record.job_id and record.status is RunnerStatus.WAITING_FOR_JOB:
        return {WAITING_ATTRIBUTE: WARM_PREFIX + record.pool, DUE_ATTRIBUTE: time_text(record.status_since)}
    return {}


def runner_from_item(raw: Mapping[str, Any]) -> RunnerRecord:
    item = deserialize(raw)
    history = tuple(
        HistoryEntry(RunnerStatus(h["status"]), _required_time(h["at"]), str(h.get("reason", "")))
        for h in item.get("history", [])
    )
    return RunnerRecord(
        runner_name=str(item["runner_name"]),
        job_id=int(item["job_id"]),
        repository=str(item.get("repository", "")),
        labels=tuple(str(label) for label in item.get("labels", [])),
        status=RunnerStatus(item["status"]),
        status_reason=str(item.get("status_reason", "")),
        created_at=_required_time(item["created_at"]),
        updated_at=_required_time(item["updated_at"]),
        history=history,
        class_name=item.get("class_name"),
        image=item.get("image"),
        image_tag=item.get("image_tag"),
        architecture=item.get("architecture"),
        run_id=_int(item.get("run_id")),
        run_url=item.get("run_url"),
        workflow_name=item.get("workflow_name"),
        job_name=item.get("job_name"),
        run_job_id=_int(item.get("run_job_id")),
        run_job_repository=item.get("run_job_repository"),
        conclusion=item.get("conclusion"),
        task_arn=item.get("task_arn"),
        github_runner_id=_int(item.get("github_runner_id")),
        attempts=_int(item.get("attempts")) or 0,
        last_error=item.get("last_error"),
        next_attempt_at=parse_time(item.get("next_attempt_at")),
        holds_slot=bool(item.get("holds_slot", False)),
        replaces=item.get("replaces"),
        job_queued_at=parse_time(item.get("job_queued_at")),
        task_started_at=parse_time(item.get("task_started_at")),
        relaunches=_int(item.get("relaunches")) or 0,
        on_demand=bool(item.get("on_demand", False)),
        verify_queued=bool(item.get("verify_queued", False)),
        refusal=item.get("refusal"),
        pool=item.get("pool"),
        version=_int(item.get("version")) or 0,
    )


def image_to_item(image: ImageRecord) -> dict[str, Any]:
    return serialize(
        {
            "pk": IMAGE_PREFIX + image.tag,
            "status": IMAGE_INDEX_PARTITION,
            "created_at": time_text(image.created_at),
            "updated_at": time_text(image.updated_at),
            "tag": image.tag,
            "base_image": image.base_image,
            "architecture": image.architecture,
            "state": image.state.value,
            "build_id": image.build_id,
            "task_definition_arn": image.task_definition_arn,
            "built_at": time_text(image.built_at) if image.built_at else None,
            "size_bytes": image.size_bytes,
            "reason": image.reason,
            "log_url": image.log_url,
            "derived_from": image.derived_from,
            "rebuild_of": image.rebuild_of,
            "current_tag": image.current_tag,
        }
    )


def image_from_item(raw: Mapping[str, Any]) -> ImageRecord:
    item = deserialize(raw)
    return ImageRecord(
        tag=str(item["tag"]),
        base_image=str(item["base_image"]),
        architecture=str(item["architecture"]),
        state=ImageState(item["state"]),
        created_at=_required_time(item["created_at"]),
        updated_at=_required_time(item["updated_at"]),
        build_id=item.get("build_id"),
        task_definition_arn=item.get("task_definition_arn"),
        built_at=parse_time(item.get("built_at")),
        size_bytes=_int(item.get("size_bytes")),
        reason=item.get("reason"),
        log_url=item.get("log_url"),
        derived_from=item.get("derived_from"),
        rebuild_of=item.get("rebuild_of"),
        current_tag=item.get("current_tag"),
    )
