"""Small, reusable record changes applied through ``RunnerStore.update``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from ..domain.runner import RunnerRecord
from ..domain.status import RunnerStatus
from ..ports import RecordChange
from .context import Deps, log

# How long a launch owns a record before another caller may take over (longer than any invocation).
LAUNCH_LEASE = timedelta(seconds=300)


def to_status(status: RunnerStatus, reason: str, at: datetime, **changes: object) -> RecordChange:
    """Move to ``status`` if the transition table allows it; otherwise a no-op."""

    def change(record: RunnerRecord) -> RunnerRecord | None:
        moved = record.transition(status, reason, at)
        return moved.touch(at, **changes) if moved is not None and changes else moved

    return change


def annotate(at: datetime, **changes: object) -> RecordChange:
    """Set fields without touching the status; a no-op if nothing would change."""

    def change(record: RunnerRecord) -> RunnerRecord | None:
        if all(getattr(record, key) == value for key, value in changes.items()):
            return None
        return record.touch(at, **changes)

    return change


def move(deps: Deps, name: str, status: RunnerStatus, reason: str, **changes: object) -> RunnerRecord | None:
    """Apply a transition; returns the new record, or ``None`` when it was a no-op."""
    before, after = deps.store.update(name, to_status(status, reason, deps.clock.now(), **changes))
    if after is not None:
        log.info(
            "runner %s: %s -> %s (%s)",
            name,
            before.status if before else "?",
            status,
            reason,
            extra={"runner_name": name, "status": str(status)},
        )
        if status is RunnerStatus.FAILED:
            deps.metrics.count("RunnersFailed", reason=failure_kind(reason))
    return after


def failure_kind(reason: str) -> str:
    """A low-cardinality metric dimension for a failure reason."""
    lowered = reason.lower()
    if lowered.startswith("task stopped"):
        return "task"  # the rest is ECS's text (stoppedReason), which must not pick the kind
    for marker, kind in (
        ("label", "labels"),
        ("class", "labels"),
        ("image", "image"),
        ("ttl", "ttl"),
        ("timeout", "timeout"),
        ("within", "timeout"),
        ("launch", "launch"),
        ("task stopped", "task"),
    ):
        if marker in lowered:
            return kind
    return "other"


def clear_lease(record: RunnerRecord, at: datetime) -> RunnerRecord:
    return replace(record, next_attempt_at=None, updated_at=at)
