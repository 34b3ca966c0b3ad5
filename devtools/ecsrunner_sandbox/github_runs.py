"""Workflow runs of the GitHub stand-in: a run groups jobs (one, or a matrix) and its ``status`` is
derived from theirs, as GitHub derives it.

Derivation (the jobs of the run's latest attempt; GitHub's docs: ``queued`` waits for a runner,
``waiting`` is blocked on a gate such as an environment's required reviewers, ``in_progress`` is
executing, ``completed`` has a ``conclusion``):

- every job ``completed``: ``completed``, concluded ``failure`` if a job failed (then
  ``timed_out``, ``cancelled``, ``action_required`` in that order), ``skipped`` if every job was
  skipped, else ``success``;
- a job ``in_progress``: ``in_progress``;
- a job ``waiting`` (none running): ``waiting``, as GitHub shows a run whose deployment job awaits
  approval, even when earlier jobs have finished;
- some jobs ``completed``, the rest ``queued``: ``in_progress`` (the run started);
- otherwise (no job started): ``queued``.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from .github_examples import API, WEB, retarget_repository

FAILED_CONCLUSIONS = ("failure", "timed_out", "cancelled", "action_required")


class JobState(Protocol):
    status: str
    conclusion: str | None


@dataclass
class Run:
    id: int
    repository: str
    workflow_name: str
    run_number: int
    created_at: float
    attempt: int = 1
    event: str = "push"
    head_branch: str = "main"

    @property
    def head_sha(self) -> str:
        return hashlib.sha1(f"{self.repository}:{self.id}".encode(), usedforsecurity=False).hexdigest()


def run_status(jobs: Iterable[JobState]) -> tuple[str, str | None]:
    """``(status, conclusion)`` of a run from its latest attempt's jobs (see the module docstring)."""
    jobs = list(jobs)
    statuses = {job.status for job in jobs}
    if jobs and statuses == {"completed"}:
        conclusions = {job.conclusion for job in jobs}
        failed = [c for c in FAILED_CONCLUSIONS if c in conclusions]
        if failed:
            return "completed", failed[0]
        return "completed", "skipped" if conclusions == {"skipped"} else "success"
    if "in_progress" in statuses:
        return "in_progress", None
    if "waiting" in statuses:
        return "waiting", None
    if "completed" in statuses:
        return "in_progress", None
    return "queued", None


def run_to_api(
    run: Run,
    status: str,
    conclusion: str | None,
    updated_at: str,
    created_at: str,
    *,
    example: dict[str, Any],
    repository_id: int,
) -> dict[str, Any]:
    """The REST ``workflow-run`` object, built from the description's example."""
    data = copy.deepcopy(example)
    base = f"{API}/repos/{run.repository}/actions/runs/{run.id}"
    repository = retarget_repository(example["repository"], run.repository, repository_id)
    data.update(
        id=run.id,
        name=run.workflow_name,
        node_id=f"WFR_standin{run.id}",
        check_suite_id=run.id,
        check_suite_node_id=f"CS_standin{run.id}",
        head_branch=run.head_branch,
        head_sha=run.head_sha,
        run_number=run.run_number,
        run_attempt=run.attempt,
        event=run.event,
        display_title=run.workflow_name,
        status=status,
        conclusion=conclusion,
        url=base,
        html_url=f"{WEB}/{run.repository}/actions/runs/{run.id}",
        created_at=created_at,
        updated_at=updated_at,
        run_started_at=created_at,
        jobs_url=f"{base}/jobs",
        logs_url=f"{base}/logs",
        check_suite_url=f"{API}/repos/{run.repository}/check-suites/{run.id}",
        artifacts_url=f"{base}/artifacts",
        cancel_url=f"{base}/cancel",
        rerun_url=f"{base}/rerun",
        previous_attempt_url=f"{base}/attempts/{run.attempt - 1}" if run.attempt > 1 else None,
        workflow_url=f"{API}/repos/{run.repository}/actions/workflows/{example['workflow_id']}",
        repository=repository,
        head_repository=copy.deepcopy(repository),
    )
    data["head_commit"]["id"] = run.head_sha
    return data
