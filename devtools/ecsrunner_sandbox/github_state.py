"""What the GitHub stand-in remembers: registered runners, repositories, workflow runs and their jobs.

Scopes are API paths in lower case (``repos/owner/repo``, ``orgs/org``): GitHub compares owner,
repository and organisation names case-insensitively, and runner names too.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .github_examples import API, WEB
from .github_runs import Run, run_status

READ_ONLY_LABELS = frozenset({"self-hosted", "x64", "arm64", "arm", "linux", "macos", "windows"})
DEFAULT_GROUP_NAME = "Default"


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def repo_scope(repository: str) -> str:
    return f"repos/{repository.lower()}"


def org_scope(org: str) -> str:
    return f"orgs/{org.lower()}"


@dataclass
class Runner:
    id: int
    name: str
    scope: str
    labels: tuple[str, ...]
    runner_group_id: int
    work_folder: str
    jit_secret: str = field(repr=False)
    status: str = "offline"
    busy: bool = False
    os: str = "unknown"
    job_id: int | None = None

    def serves(self, repository: str) -> bool:
        owner = repository.split("/", 1)[0]
        return self.scope in (repo_scope(repository), org_scope(owner))

    def satisfies(self, job_labels: tuple[str, ...]) -> bool:
        """GitHub's rule: the runner has every label of the job, compared case-insensitively."""
        own = {label.lower() for label in self.labels}
        return all(label.lower() in own for label in job_labels)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "os": self.os,
            "status": self.status,
            "busy": self.busy,
            "ephemeral": True,
            "runner_group_id": self.runner_group_id,
            "labels": [
                {
                    "id": index + 1,
                    "name": label,
                    "type": "read-only" if label.lower() in READ_ONLY_LABELS else "custom",
                }
                for index, label in enumerate(self.labels)
            ],
        }


@dataclass
class Job:
    id: int
    run_id: int
    repository: str
    labels: tuple[str, ...]
    name: str
    workflow_name: str
    created_at: float
    status: str = "queued"
    conclusion: str | None = None
    started_at: float | None = None
    completed_at: float | None = None
    runner_id: int | None = None
    runner_name: str | None = None
    runner_group_id: int | None = None
    run_attempt: int = 1

    @property
    def head_sha(self) -> str:
        return hashlib.sha1(f"{self.repository}:{self.run_id}".encode(), usedforsecurity=False).hexdigest()

    @property
    def touched_at(self) -> float:
        return max(t for t in (self.created_at, self.started_at, self.completed_at) if t is not None)

    def to_api(self) -> dict[str, Any]:
        """The REST ``job`` object (GET /repos/{owner}/{repo}/actions/jobs/{job_id})."""
        return {
            "id": self.id,
            "run_id": self.run_id,
            "run_url": f"{API}/repos/{self.repository}/actions/runs/{self.run_id}",
            "run_attempt": self.run_attempt,
            "node_id": f"CR_standin{self.id}",
            "head_sha": self.head_sha,
            "head_branch": "main",
            "url": f"{API}/repos/{self.repository}/actions/jobs/{self.id}",
            "html_url": f"{WEB}/{self.repository}/actions/runs/{self.run_id}/job/{self.id}",
            "status": self.status,
            "conclusion": self.conclusion,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at if self.started_at is not None else self.created_at),
            "completed_at": iso(self.completed_at) if self.completed_at is not None else None,
            "name": self.name,
            "steps": [],
            "check_run_url": f"{API}/repos/{self.repository}/check-runs/{self.id}",
            "labels": list(self.labels),
            "runner_id": self.runner_id,
            "runner_name": self.runner_name,
            "runner_group_id": self.runner_group_id,
            "runner_group_name": DEFAULT_GROUP_NAME if self.runner_group_id is not None else None,
            "workflow_name": self.workflow_name,
        }


class GitHubState:
    """Runners, repositories, runs and jobs, behind one lock (the stand-in serves requests on many
    threads)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.runners: dict[int, Runner] = {}
        self.jobs: dict[int, Job] = {}
        self.runs: dict[int, Run] = {}
        self._repositories: dict[str, tuple[str, int]] = {}
        self._run_numbers: dict[str, int] = {}
        self._next_runner_id = 1001
        self._next_job_id = 30_000_000_001
        self._next_run_id = 9_000_000_001
        self._next_repository_id = 700_000_001

    def register_runner(
        self, scope: str, name: str, *, labels: tuple[str, ...], group_id: int, work_folder: str, secret: str
    ) -> Runner | None:
        """A new offline runner, or ``None`` if the scope already has a runner with that name."""
        with self.lock:
            if self.runner_named(scope, name) is not None:
                return None
            runner = Runner(self._next_runner_id, name, scope, labels, group_id, work_folder, secret)
            self._next_runner_id += 1
            self.runners[runner.id] = runner
            return runner

    def runner_named(self, scope: str, name: str) -> Runner | None:
        with self.lock:
            for runner in self.runners.values():
                if runner.scope == scope and runner.name.lower() == name.lower():
                    return runner
            return None

    def runners_in(self, scope: str, name: str | None = None) -> list[Runner]:
        with self.lock:
            found = [r for r in self.runners.values() if r.scope == scope]
            if name is not None:
                found = [r for r in found if r.name.lower() == name.lower()]
            return sorted(found, key=lambda r: r.id)

    def runner_in(self, scope: str, runner_id: int) -> Runner | None:
        with self.lock:
            runner = self.runners.get(runner_id)
            return runner if runner is not None and runner.scope == scope else None

    def remove_runner(self, runner_id: int) -> Runner | None:
        with self.lock:
            return self.runners.pop(runner_id, None)

    def repository_id(self, repository: str) -> int:
        """The repository's id; the stand-in knows every repository it has been told about."""
        with self.lock:
            known = self._repositories.get(repository.lower())
            if known is None:
                known = (repository, self._next_repository_id)
                self._next_repository_id += 1
                self._repositories[repository.lower()] = known
            return known[1]

    def repositories(self) -> list[str]:
        """Full names of the known repositories, oldest first."""
        with self.lock:
            return [name for name, _ in sorted(self._repositories.values(), key=lambda known: known[1])]

    def add_run(self, repository: str, workflow_name: str) -> Run:
        with self.lock:
            self.repository_id(repository)
            number = self._run_numbers.get(repository.lower(), 0) + 1
            self._run_numbers[repository.lower()] = number
            run = Run(self._next_run_id, repository, workflow_name, number, self.clock())
            self._next_run_id += 1
            self.runs[run.id] = run
            return run

    def add_job(
        self,
        repository: str,
        labels: tuple[str, ...],
        name: str,
        workflow_name: str,
        *,
        run_id: int | None = None,
        status: str = "queued",
    ) -> Job:
        """A new job in run ``run_id`` (its latest attempt), or in a new run of its own."""
        with self.lock:
            run = self.add_run(repository, workflow_name) if run_id is None else self.runs.get(run_id)
            if run is None or run.repository.lower() != repository.lower():
                raise KeyError(f"run {run_id} of {repository} is unknown")
            job = Job(
                id=self._next_job_id,
                run_id=run.id,
                repository=run.repository,
                labels=labels,
                name=name,
                workflow_name=run.workflow_name,
                created_at=self.clock(),
                status=status,
                run_attempt=run.attempt,
            )
            self._next_job_id += 1
            self.jobs[job.id] = job
            return job

    def rerun(self, run_id: int) -> list[Job]:
        """GitHub's "Re-run all jobs": a new attempt of the run with a fresh queued copy of each job."""
        with self.lock:
            run = self.runs[run_id]
            previous = self.run_jobs(run)
            run.attempt += 1
            return [
                self.add_job(run.repository, job.labels, job.name, run.workflow_name, run_id=run.id)
                for job in previous
            ]

    def run_in(self, repository: str, run_id: int) -> Run | None:
        with self.lock:
            run = self.runs.get(run_id)
            return run if run is not None and run.repository.lower() == repository.lower() else None

    def run_jobs(self, run: Run, *, latest: bool = True) -> list[Job]:
        """The run's jobs, oldest first: of its latest attempt, or of every attempt."""
        with self.lock:
            return [
                job
                for job in sorted(self.jobs.values(), key=lambda j: j.id)
                if job.run_id == run.id and (not latest or job.run_attempt == run.attempt)
            ]

    def run_state(self, run: Run) -> tuple[str, str | None, float]:
        """``(status, conclusion, updated_at)`` of the run, derived from its latest attempt's jobs."""
        with self.lock:
            jobs = self.run_jobs(run)
            status, conclusion = run_status(jobs)
            return status, conclusion, max([run.created_at, *(job.touched_at for job in jobs)])

    def runs_in(self, repository: str, status: str | None = None) -> list[Run]:
        """The repository's runs, newest first; ``status`` matches a run's status or conclusion, as
        GitHub's ``status`` filter does."""
        with self.lock:
            found = [run for run in self.runs.values() if run.repository.lower() == repository.lower()]
            if status is not None:
                found = [run for run in found if status in self.run_state(run)[:2]]
            return sorted(found, key=lambda run: run.id, reverse=True)

    def job_in(self, repository: str, job_id: int) -> Job | None:
        with self.lock:
            job = self.jobs.get(job_id)
            return job if job is not None and job.repository.lower() == repository.lower() else None
