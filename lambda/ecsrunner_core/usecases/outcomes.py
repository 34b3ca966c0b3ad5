"""Results use cases return to handlers and the CLI (and that tests assert on)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Outcome:
    action: str
    detail: str = ""
    runner_name: str | None = None

    def as_dict(self) -> dict[str, str]:
        result = {"outcome": self.action}
        if self.detail:
            result["detail"] = self.detail
        if self.runner_name:
            result["runner"] = self.runner_name
        return result


@dataclass
class JanitorReport:
    active_seen: int = 0
    relaunched: int = 0
    timed_out: int = 0
    expired: int = 0
    images_resumed: int = 0
    orphan_tasks_stopped: int = 0
    orphan_runners_deleted: int = 0
    relaunched_jobs: int = 0  # runners ended by a timeout whose job got a new runner
    tasks_reconciled: int = 0  # active records whose task had stopped without an event
    build_locks_recovered: int = 0
    jobs_reconciled: int = 0  # queued on GitHub without a runner of ours: given one
    webhooks_redelivered: int = 0
    github_requests: int = 0  # spent by the reconciliation
    queued_too_long: int = 0  # jobs of ours still without a task after queued_too_long_seconds
    warm_runners_added: int = 0
    warm_runners_retired: int = 0
    errors: list[str] = field(default_factory=list)
    ended: set[str] = field(default_factory=set, repr=False)  # runners this run ended

    def as_dict(self) -> dict[str, object]:
        return {key: value for key, value in self.__dict__.items() if key != "ended"}
