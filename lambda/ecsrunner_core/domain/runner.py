"""The runner record: one ephemeral runner, from the queued job that caused it to its end."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from .status import RunnerStatus, can_transition

_STATUS_FIELDS = frozenset({"status", "status_reason", "history"})


@dataclass(frozen=True)
class HistoryEntry:
    status: RunnerStatus
    at: datetime
    reason: str


@dataclass(frozen=True)
class RunnerRecord:
    """Everything known about a runner. Immutable: every change returns a new record.

    ``job_id`` is the job whose ``queued`` event launched the runner; ``run_job_id`` is the job the
    runner actually ran. They differ whenever GitHub hands an idle runner another queued job whose
    labels it satisfies. ``replaces`` names the runner this one replaces: launched for the same job,
    that runner ran another job whose own runner cannot run this one.
    """

    runner_name: str
    job_id: int
    repository: str
    labels: tuple[str, ...]
    status: RunnerStatus
    status_reason: str
    created_at: datetime
    updated_at: datetime
    history: tuple[HistoryEntry, ...] = ()
    class_name: str | None = None
    image: str | None = None
    image_tag: str | None = None
    architecture: str | None = None
    run_id: int | None = None
    run_url: str | None = None
    workflow_name: str | None = None
    job_name: str | None = None
    run_job_id: int | None = None
    run_job_repository: str | None = None
    conclusion: str | None = None
    task_arn: str | None = None
    github_runner_id: int | None = None
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    holds_slot: bool = False
    replaces: str | None = None
    version: int = 0

    @property
    def runner_id(self) -> str:
        return self.runner_name

    @property
    def terminal(self) -> bool:
        return self.status.terminal

    @property
    def status_since(self) -> datetime:
        return self.history[-1].at if self.history else self.created_at

    @property
    def launched(self) -> bool:
        return self.task_arn is not None

    def transition(self, target: RunnerStatus, reason: str, at: datetime) -> RunnerRecord | None:
        """The record in ``target``, or ``None`` when the table does not allow the move (a no-op)."""
        if not can_transition(self.status, target):
            return None
        return replace(
            self,
            status=target,
            status_reason=reason,
            updated_at=at,
            history=(*self.history, HistoryEntry(target, at, reason)),
            holds_slot=self.holds_slot and not target.terminal,
            next_attempt_at=None if target.terminal else self.next_attempt_at,
        )

    def touch(self, at: datetime, **changes: object) -> RunnerRecord:
        """The record with ``changes`` applied and ``updated_at`` moved on, status unchanged.

        Status, its reason and the history change only through :meth:`transition` (the table).
        """
        forbidden = _STATUS_FIELDS.intersection(changes)
        if forbidden:
            raise ValueError(f"touch() cannot change {', '.join(sorted(forbidden))}; use transition()")
        return replace(self, updated_at=at, **changes)  # type: ignore[arg-type]


def new_runner_record(
    *,
    runner_name: str,
    job_id: int,
    repository: str,
    labels: tuple[str, ...],
    at: datetime,
    reason: str,
    status: RunnerStatus = RunnerStatus.STARTING,
    **fields: object,
) -> RunnerRecord:
    return RunnerRecord(
        runner_name=runner_name,
        job_id=job_id,
        repository=repository,
        labels=labels,
        status=status,
        status_reason=reason,
        created_at=at,
        updated_at=at,
        history=(HistoryEntry(status, at, reason),),
        **fields,  # type: ignore[arg-type]
    )
