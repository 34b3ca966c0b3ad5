"""GitHub webhook deliveries: signature check and the ``workflow_job`` payload."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SIGNATURE_PREFIX = "sha256="
MAX_BODY_BYTES = 1024 * 1024


def sign(secret: bytes, body: bytes) -> str:
    return SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """HMAC-SHA256 of the raw body, ``sha256=`` prefix required, compared in constant time."""
    if not secret or not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode("utf-8", "replace"))


class MalformedPayload(ValueError):
    """The payload is JSON but not the shape GitHub documents."""


def _get(
    mapping: Mapping[str, Any], key: str, kind: type | tuple[type, ...], *, optional: bool = False
) -> Any:
    value = mapping.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise MalformedPayload(f"{key} must be {getattr(kind, '__name__', kind)}")
    return value


@dataclass(frozen=True)
class WorkflowJobEvent:
    action: str
    job_id: int
    run_id: int | None
    run_url: str | None
    job_name: str | None
    workflow_name: str | None
    labels: tuple[Any, ...]
    runner_name: str | None
    runner_id: int | None
    conclusion: str | None
    repository: str
    owner: str
    organization: str | None
    status: str | None = None  # workflow_job.status: "waiting" while an environment awaits approval
    created_at: datetime | None = None  # when GitHub queued the job

    @classmethod
    def from_payload(cls, payload: Any) -> WorkflowJobEvent:
        if not isinstance(payload, Mapping):
            raise MalformedPayload("payload must be a JSON object")
        action = _get(payload, "action", str)
        job = _get(payload, "workflow_job", Mapping)
        repo = _get(payload, "repository", Mapping)
        owner = _get(repo, "owner", Mapping)
        org = payload.get("organization")
        labels = _get(job, "labels", list)
        return cls(
            action=action,
            job_id=_get(job, "id", int),
            run_id=_get(job, "run_id", int, optional=True),
            run_url=_get(job, "html_url", str, optional=True),
            job_name=_get(job, "name", str, optional=True),
            workflow_name=_get(job, "workflow_name", str, optional=True),
            labels=tuple(labels),
            runner_name=_get(job, "runner_name", str, optional=True),
            runner_id=_get(job, "runner_id", int, optional=True),
            conclusion=_get(job, "conclusion", str, optional=True),
            repository=_get(repo, "full_name", str),
            owner=_get(owner, "login", str),
            organization=_get(org, "login", str) if isinstance(org, Mapping) else None,
            status=_get(job, "status", str, optional=True),
            created_at=parse_github_time(job.get("created_at")),
        )


def parse_github_time(value: object) -> datetime | None:
    """GitHub's ISO-8601 timestamps (``2021-06-15T19:22:27Z``); None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
