"""In-process fakes for unit tests of the use cases (flow tests use the OpenAPI-validated stand-in)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from ecsrunner_core.ports import (
    GitHubAuthError,
    GitHubJob,
    GitHubNotFound,
    GitHubRunner,
    GitHubRunnerExists,
    HookDelivery,
    HookRef,
    JitConfig,
    Page,
    WorkflowRun,
)

T = TypeVar("T")


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        self.advance(max(seconds, 0.0))


@dataclass
class FakeGitHub:
    """An in-memory GitHubPort. Tests fill ``runners``, ``jobs``, ``runs``, ``repositories`` and
    ``deliveries`` (newest last, per hook); ``fail_next`` raises its errors from the next calls, in
    order; ``calls`` records (method, argument). Listings page ``page_size`` items at a time, the
    next page named by its number; ``app=False`` plays PAT credentials (no installation listing, no
    App hook). A redelivery is recorded in ``redelivered`` and appended as a new delivery with the
    same GUID and ``redelivery_status``."""

    runners: dict[int, GitHubRunner] = field(default_factory=dict)
    jobs: dict[int, GitHubJob] = field(default_factory=dict)
    runs: dict[int, WorkflowRun] = field(default_factory=dict)
    repositories: list[str] = field(default_factory=list)
    deliveries: dict[HookRef, list[HookDelivery]] = field(default_factory=dict)
    redelivered: list[tuple[HookRef, int]] = field(default_factory=list)
    redelivery_status: int = 200
    app: bool = True
    page_size: int = 100
    calls: list[tuple[str, Any]] = field(default_factory=list)
    fail_next: list[Exception] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(100))

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    def _call(self, method: str, argument: Any) -> None:
        self.calls.append((method, argument))
        self._maybe_fail()

    def _page(self, items: Sequence[T], page: str | None) -> Page[T]:
        number = int(page or 1)
        start = (number - 1) * self.page_size
        chunk = tuple(items[start : start + self.page_size])
        return Page(chunk, str(number + 1) if len(items) > start + self.page_size else None)

    def generate_jitconfig(
        self, *, name: str, labels: Sequence[str], runner_group_id: int, work_folder: str = "_work"
    ) -> JitConfig:
        self._call("generate_jitconfig", name)
        if any(r.name == name for r in self.runners.values()):
            raise GitHubRunnerExists("exists", 409)
        runner = GitHubRunner(next(self._ids), name, "offline", False, tuple(labels))
        self.runners[runner.id] = runner
        return JitConfig(runner.id, name, f"JITSECRET-{name}")

    def delete_runner(self, runner_id: int) -> None:
        self._call("delete_runner", runner_id)
        if self.runners.pop(runner_id, None) is None:
            raise GitHubNotFound("no runner", 404)

    def list_runners(self, name: str | None = None) -> Iterator[GitHubRunner]:
        self.calls.append(("list_runners", name))
        return iter([r for r in self.runners.values() if name is None or r.name == name])

    def get_runner(self, runner_id: int) -> GitHubRunner | None:
        self._call("get_runner", runner_id)
        return self.runners.get(runner_id)

    def get_job(self, repository: str, job_id: int) -> GitHubJob | None:
        self._call("get_job", job_id)
        job = self.jobs.get(job_id)
        return job if job is not None and job.repository.lower() == repository.lower() else None

    def list_workflow_runs(self, repository: str, status: str, page: str | None = None) -> Page[WorkflowRun]:
        self._call("list_workflow_runs", (repository, status, page))
        found = [
            run
            for run in sorted(self.runs.values(), key=lambda run: run.id, reverse=True)
            if run.repository.lower() == repository.lower() and run.status == status
        ]
        return self._page(found, page)

    def list_run_jobs(self, repository: str, run_id: int, page: str | None = None) -> Page[GitHubJob]:
        self._call("list_run_jobs", (repository, run_id, page))
        found = [
            job
            for job in sorted(self.jobs.values(), key=lambda job: job.id)
            if job.run_id == run_id and job.repository.lower() == repository.lower()
        ]
        return self._page(found, page)

    def list_installation_repositories(self, page: str | None = None) -> Page[str]:
        self._call("list_installation_repositories", page)
        if not self.app:
            raise GitHubAuthError("the installation's repositories need GitHub App credentials, not a PAT")
        return self._page(self.repositories, page)

    def list_hook_deliveries(
        self, hook: HookRef, *, failed_only: bool = True, page: str | None = None
    ) -> Page[HookDelivery]:
        self._call("list_hook_deliveries", (hook, failed_only, page))
        self._check_hook(hook)
        found = [
            delivery
            for delivery in reversed(self.deliveries.get(hook, []))
            if not failed_only or 400 <= delivery.status_code < 600
        ]
        return self._page(found, page)

    def redeliver(self, hook: HookRef, delivery_id: int) -> None:
        self._call("redeliver", (hook, delivery_id))
        self._check_hook(hook)
        known = self.deliveries.get(hook, [])
        original = next((d for d in known if d.id == delivery_id), None)
        if original is None:
            raise GitHubNotFound("no delivery", 404)
        self.redelivered.append((hook, delivery_id))
        again = replace(
            original, id=max(d.id for d in known) + 1, redelivery=True, status_code=self.redelivery_status
        )
        known.append(again)

    def _check_hook(self, hook: HookRef) -> None:
        if hook.app and not self.app:
            raise GitHubAuthError("the App's webhook deliveries need GitHub App credentials, not a PAT")
        if hook not in self.deliveries:
            raise GitHubNotFound("no hook", 404)

    def rate_limit(self) -> Mapping[str, Any]:
        return {"resources": {"core": {"limit": 5000, "remaining": 5000}}}
