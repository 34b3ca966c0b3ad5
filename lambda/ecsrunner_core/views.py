"""The JSON view of records shared by the CLI and the handlers' logs (stable keys)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .domain.images import ImageRecord
from .domain.runner import RunnerRecord


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def runner_view(record: RunnerRecord) -> dict[str, Any]:
    return {
        "runner_id": record.runner_id,
        "runner_name": record.runner_name,
        "status": record.status.value,
        "status_reason": record.status_reason,
        "job_id": record.job_id or None,  # a warm runner has no job until it takes one
        "run_job_id": record.run_job_id,
        "repository": record.repository,
        "run_job_repository": record.run_job_repository,
        "run_id": record.run_id,
        "run_url": record.run_url,
        "workflow_name": record.workflow_name,
        "job_name": record.job_name,
        "conclusion": record.conclusion,
        "labels": list(record.labels),
        "class": record.class_name,
        "image": record.image,
        "image_tag": record.image_tag,
        "architecture": record.architecture,
        "task_arn": record.task_arn,
        "github_runner_id": record.github_runner_id,
        "attempts": record.attempts,
        "last_error": record.last_error,
        "replaces": record.replaces,
        "pool": record.pool,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "status_since": iso(record.status_since),
        "history": [
            {"status": h.status.value, "time": iso(h.at), "reason": h.reason} for h in record.history
        ],
    }


def image_view(image: ImageRecord) -> dict[str, Any]:
    return {
        "tag": image.tag,
        "base_image": image.base_image,
        "architecture": image.architecture,
        "state": image.state.value,
        "build_id": image.build_id,
        "built_at": iso(image.built_at),
        "size_bytes": image.size_bytes,
        "reason": image.reason,
        "log_url": image.log_url,
        "created_at": iso(image.created_at),
        "updated_at": iso(image.updated_at),
    }
