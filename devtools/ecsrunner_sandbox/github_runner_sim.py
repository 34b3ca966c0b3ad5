"""The "runner side" of the GitHub stand-in: jobs queued (alone, or a run of several: a matrix),
held for an environment's approval, JIT runners coming online, taking jobs, finishing.

Webhook payloads start from GitHub's real examples in ``tests/fixtures/github/webhooks`` and change
only ids, labels, runner fields, action/status/conclusion and the repository (its names and URLs,
and the organization login when the example has one).

A job behind a protected environment follows GitHub's sequence: a ``queued`` delivery whose
``workflow_job.status`` is ``waiting`` (GitHub's ``queued.with-deployment`` example), a ``waiting``
delivery, and after approval a ``queued`` delivery with status ``queued``. A waiting job is never
given to a runner.

Given ``hooks``, every change is also sent as a ``workflow_job`` webhook to the hooks that
subscribe to the job's repository; without, the caller builds payloads with :meth:`payload`.
"""

from __future__ import annotations

import base64
import hmac
import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecsrunner_core.webhook import sign

from .github_examples import API, WEB, retarget_repository, retarget_urls
from .github_hooks import Delivery, Hooks
from .github_state import DEFAULT_GROUP_NAME, GitHubState, Job, Runner, iso

WEBHOOK_EXAMPLES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "github" / "webhooks"
EXAMPLE_FOR_ACTION = {
    "queued": "workflow_job.queued.json",
    "queued:waiting": "workflow_job.queued.with-deployment.json",
    "waiting": "workflow_job.waiting.json",
    "in_progress": "workflow_job.in_progress.json",
    "completed:success": "workflow_job.completed.success.with-organization.json",
    "completed:failure": "workflow_job.completed.failure.with-organization.json",
}


class RunnerSimError(RuntimeError):
    """The simulated runner side cannot do what was asked (bad JIT config, unknown job, ...)."""


class RunnerSimulator:
    def __init__(self, state: GitHubState, hooks: Hooks | None = None) -> None:
        self.state = state
        self.hooks = hooks
        self.sent: list[Delivery] = []

    def queue_job(
        self,
        repository: str,
        labels: Sequence[str],
        *,
        name: str = "build",
        workflow: str = "CI",
        run_id: int | None = None,
        awaiting_approval: bool = False,
    ) -> Job:
        """A queued job in run ``run_id``, or in a run of its own; ``awaiting_approval``: its
        environment needs a reviewer first (status ``waiting`` until :meth:`approve`)."""
        status = "waiting" if awaiting_approval else "queued"
        job = self.state.add_job(repository, tuple(labels), name, workflow, run_id=run_id, status=status)
        self._emit(job, "queued")
        if awaiting_approval:
            self._emit(job, "waiting")
        return job

    def queue_run(
        self,
        repository: str,
        labels: Sequence[Sequence[str]],
        *,
        workflow: str = "CI",
        name: str = "build",
        awaiting_approval: bool = False,
    ) -> list[Job]:
        """One workflow run with a job per entry of ``labels`` (a matrix), named ``name (1)``..."""
        run = self.state.add_run(repository, workflow)
        return [
            self.queue_job(
                repository,
                job_labels,
                name=f"{name} ({index})" if len(labels) > 1 else name,
                run_id=run.id,
                awaiting_approval=awaiting_approval,
            )
            for index, job_labels in enumerate(labels, start=1)
        ]

    def hold_for_approval(self, job: Job) -> Job:
        """A queued job's environment now needs a reviewer: status ``waiting``."""
        with self.state.lock:
            if job.status != "queued":
                raise RunnerSimError(f"job {job.id} is {job.status}, not queued")
            job.status = "waiting"
        self._emit(job, "waiting")
        return job

    def approve(self, job: Job) -> Job:
        """A reviewer approved the job's environment: it is queued for a runner again."""
        with self.state.lock:
            if job.status != "waiting":
                raise RunnerSimError(f"job {job.id} is {job.status}, not waiting for approval")
            job.status = "queued"
        self._emit(job, "queued")
        return job

    def rerun(self, run_id: int) -> list[Job]:
        """GitHub's "Re-run all jobs": a new attempt with a queued copy of every job of the run."""
        jobs = self.state.rerun(run_id)
        for job in jobs:
            self._emit(job, "queued")
        return jobs

    def runner_online(self, encoded_jit_config: str) -> Runner:
        """What ``run.sh --jitconfig`` does: the runner registered by generate-jitconfig connects."""
        try:
            config = json.loads(base64.b64decode(encoded_jit_config, validate=True))
            runner_id, secret = int(config["runner_id"]), str(config["secret"])
        except (ValueError, KeyError, TypeError):
            raise RunnerSimError("not a JIT config issued by the stand-in") from None
        with self.state.lock:
            runner = self.state.runners.get(runner_id)
            if runner is None or not hmac.compare_digest(runner.jit_secret, secret):
                raise RunnerSimError(f"runner {runner_id} is not registered (deleted, or a forged config)")
            runner.status, runner.os = "online", "Linux"
            return runner

    def runner_offline(self, runner_id: int) -> None:
        with self.state.lock:
            runner = self.state.runners.get(runner_id)
            if runner is not None:
                runner.status, runner.busy = "offline", False

    def assign_job(self, runner_id: int) -> Job | None:
        """Give an online idle runner the oldest queued job it can run (same repository or org,
        labels satisfied); the job goes ``in_progress``."""
        with self.state.lock:
            runner = self.state.runners.get(runner_id)
            if runner is None or runner.status != "online" or runner.busy:
                return None
            job = next(
                (
                    job
                    for job in sorted(self.state.jobs.values(), key=lambda j: j.id)
                    if job.status == "queued"
                    and runner.serves(job.repository)
                    and runner.satisfies(job.labels)
                ),
                None,
            )
            if job is None:
                return None
            job.status, job.started_at = "in_progress", self.state.clock()
            job.runner_id, job.runner_name = runner.id, runner.name
            job.runner_group_id = runner.runner_group_id
            runner.busy, runner.job_id = True, job.id
        self._emit(job, "in_progress")
        return job

    def complete_job(self, job_id: int, conclusion: str = "success") -> Job:
        """Finish a job. Its ephemeral runner deregisters itself, as JIT runners do after one job."""
        with self.state.lock:
            job = self.state.jobs.get(job_id)
            if job is None or job.status == "completed":
                raise RunnerSimError(f"job {job_id} is unknown or already completed")
            job.status, job.conclusion, job.completed_at = "completed", conclusion, self.state.clock()
            if job.runner_id is not None:
                self.state.remove_runner(job.runner_id)
        self._emit(job, "completed")
        return job

    def payload(self, job: Job, action: str | None = None) -> dict[str, Any]:
        """The ``workflow_job`` webhook payload for the job's current state (``action`` defaults to
        the job's status)."""
        action = action or job.status
        if action == "completed":
            key = f"completed:{'success' if job.conclusion == 'success' else 'failure'}"
        elif action == "queued" and job.status == "waiting":
            key = "queued:waiting"
        else:
            key = action
        if key not in EXAMPLE_FOR_ACTION:
            raise RunnerSimError(f"no example payload for action {action!r}")
        payload: dict[str, Any] = json.loads((WEBHOOK_EXAMPLES / EXAMPLE_FOR_ACTION[key]).read_text("utf-8"))
        payload["action"] = action
        old_full_name = payload["repository"]["full_name"]
        payload["repository"] = retarget_repository(
            payload["repository"], job.repository, self.state.repository_id(job.repository)
        )
        if "deployment" in payload:
            payload["deployment"] = retarget_urls(payload["deployment"], old_full_name, job.repository)
        if "organization" in payload:
            payload["organization"]["login"] = job.repository.split("/", 1)[0]
        _update_job(payload["workflow_job"], job, action)
        return payload

    def _emit(self, job: Job, action: str) -> None:
        if self.hooks is not None:
            self.sent += self.hooks.send("workflow_job", self.payload(job, action))


def webhook_delivery(event: str, payload: dict[str, Any], secret: bytes) -> tuple[bytes, dict[str, str]]:
    """Body and headers of a delivery as GitHub sends it (signed with ``X-Hub-Signature-256``)."""
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/standin",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
        "X-Hub-Signature-256": sign(secret, body),
    }
    return body, headers


def _update_job(data: dict[str, Any], job: Job, action: str) -> None:
    data.update(
        id=job.id,
        run_id=job.run_id,
        run_url=f"{API}/repos/{job.repository}/actions/runs/{job.run_id}",
        url=f"{API}/repos/{job.repository}/actions/jobs/{job.id}",
        html_url=f"{WEB}/{job.repository}/actions/runs/{job.run_id}/job/{job.id}",
        check_run_url=f"{API}/repos/{job.repository}/check-runs/{job.id}",
        status=_payload_status(job, action),
        conclusion=job.conclusion if action == "completed" else None,
        labels=list(job.labels),
        runner_id=job.runner_id,
        runner_name=job.runner_name,
        runner_group_id=job.runner_group_id,
        runner_group_name=DEFAULT_GROUP_NAME if job.runner_group_id is not None else None,
        run_attempt=job.run_attempt,
        name=job.name,
        workflow_name=job.workflow_name,
        created_at=iso(job.created_at),
        started_at=iso(job.started_at if job.started_at is not None else job.created_at),
        completed_at=iso(job.completed_at) if job.completed_at is not None else None,
    )
    if action == "queued" and "steps" in data:
        data["steps"] = []


def _payload_status(job: Job, action: str) -> str:
    if action == "queued":
        return "waiting" if job.status == "waiting" else "queued"
    if action == "waiting":
        return "waiting"
    return job.status
