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
    labels it satisfies. ``replaces`` names the runner this one replaces for the same job: that
    runner ran another job, died before taking one, or was retired while the job waited for an
    approval. ``relaunches`` counts the runners of this job that ended without taking a job.

    Clocks (docs/DESIGN.md "Timeouts"): ``job_queued_at`` is when GitHub queued the job (the launch
    wait limit); ``task_started_at`` is the RunTask of the current task (STARTING timeout and TTL);
    WAITING_FOR_JOB counts from entering that status (the task reached RUNNING).

    ``refusal`` is set when the job cannot be served for a configuration reason the operator must
    fix (``labels``, ``image``, ``launch``) or was given up (``relaunches``, ``queue-limit``): such a
    job may stay queued on GitHub, visibly. ``verify_queued`` makes the next launch ask GitHub first
    whether the job is still queued.
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
    job_queued_at: datetime | None = None
    task_started_at: datetime | None = None
    relaunches: int = 0
    on_demand: bool = False
    verify_queued: bool = False
    refusal: str | None = None
    pool: str | None = None
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

    @property
    def status_path(self) -> tuple[RunnerStatus, ...]:
        """The statuses the record went through, in order (history notes left out)."""
        path: list[RunnerStatus] = []
        for entry in self.history:
            if not path or path[-1] is not entry.status:
                path.append(entry.status)
        return tuple(path)

    @property
    def queued_since(self) -> datetime:
        return self.job_queued_at or self.created_at

    @property
    def took_job(self) -> bool:
        """It ran (or runs) a job, by GitHub's word or ours: it never needs a relaunch."""
        return self.run_job_id is not None or any(h.status is RunnerStatus.RUNNING for h in self.history)

    def note(self, reason: str, at: datetime) -> RunnerRecord:
        """A history entry without a status change: when a clock starts (e.g. the task's RunTask)."""
        return replace(self, updated_at=at, history=(*self.history, HistoryEntry(self.status, at, reason)))

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
    fields: dict[str, object] | None = None,
    **more: object,
) -> RunnerRecord:
    fields = {**(fields or {}), **more}
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
