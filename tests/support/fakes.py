"""In-process fakes for unit tests of the use cases (flow tests use the OpenAPI-validated stand-in)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ecsrunner_core.ports import GitHubNotFound, GitHubRunner, GitHubRunnerExists, JitConfig


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
    runners: dict[int, GitHubRunner] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    fail_next: list[Exception] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(100))

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    def generate_jitconfig(
        self, *, name: str, labels: Sequence[str], runner_group_id: int, work_folder: str = "_work"
    ) -> JitConfig:
        self.calls.append(("generate_jitconfig", name))
        self._maybe_fail()
        if any(r.name == name for r in self.runners.values()):
            raise GitHubRunnerExists("exists", 409)
        runner = GitHubRunner(next(self._ids), name, "offline", False, tuple(labels))
        self.runners[runner.id] = runner
        return JitConfig(runner.id, name, f"JITSECRET-{name}")

    def delete_runner(self, runner_id: int) -> None:
        self.calls.append(("delete_runner", runner_id))
        self._maybe_fail()
        if self.runners.pop(runner_id, None) is None:
            raise GitHubNotFound("no runner", 404)

    def list_runners(self, name: str | None = None) -> Iterator[GitHubRunner]:
        self.calls.append(("list_runners", name))
        return iter([r for r in self.runners.values() if name is None or r.name == name])

    def get_job(self, repository: str, job_id: int) -> Mapping[str, Any]:
        return {"id": job_id}

    def rate_limit(self) -> Mapping[str, Any]:
        return {"resources": {"core": {"limit": 5000, "remaining": 5000}}}
