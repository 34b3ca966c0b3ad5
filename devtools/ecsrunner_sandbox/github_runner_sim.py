"""The "runner side" of the GitHub stand-in: JIT runners coming online, taking jobs, finishing.

Webhook payloads start from GitHub's real examples in ``tests/fixtures/github/webhooks`` and change
only ids, labels, runner fields, action/status/conclusion and the repository (its names and URLs,
and the organization login when the example has one).
"""

from __future__ import annotations

import base64
import copy
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

from ecsrunner_core.webhook import sign

from .github_state import API, DEFAULT_GROUP_NAME, WEB, GitHubState, Job, Runner, iso

WEBHOOK_EXAMPLES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "github" / "webhooks"
EXAMPLE_FOR_ACTION = {
    "queued": "workflow_job.queued.json",
    "in_progress": "workflow_job.in_progress.json",
    "completed:success": "workflow_job.completed.success.with-organization.json",
    "completed:failure": "workflow_job.completed.failure.with-organization.json",
}


class RunnerSimError(RuntimeError):
    """The simulated runner side cannot do what was asked (bad JIT config, unknown job, ...)."""


class RunnerSimulator:
    def __init__(self, state: GitHubState) -> None:
        self.state = state

    def queue_job(
        self,
        repository: str,
        labels: list[str] | tuple[str, ...],
        *,
        name: str = "build",
        workflow: str = "CI",
    ) -> Job:
        return self.state.add_job(repository, tuple(labels), name, workflow)

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
            for job in sorted(self.state.jobs.values(), key=lambda j: j.id):
                if job.status == "queued" and runner.serves(job.repository) and runner.satisfies(job.labels):
                    job.status, job.started_at = "in_progress", self.state.clock()
                    job.runner_id, job.runner_name = runner.id, runner.name
                    job.runner_group_id = runner.runner_group_id
                    runner.busy, runner.job_id = True, job.id
                    return job
            return None

    def complete_job(self, job_id: int, conclusion: str = "success") -> Job:
        """Finish a job. Its ephemeral runner deregisters itself, as JIT runners do after one job."""
        with self.state.lock:
            job = self.state.jobs.get(job_id)
            if job is None or job.status == "completed":
                raise RunnerSimError(f"job {job_id} is unknown or already completed")
            job.status, job.conclusion, job.completed_at = "completed", conclusion, self.state.clock()
            if job.runner_id is not None:
                self.state.remove_runner(job.runner_id)
            return job

    def payload(self, job: Job, action: str | None = None) -> dict[str, Any]:
        """The ``workflow_job`` webhook payload for the job's current state."""
        action = action or job.status
        key = (
            f"completed:{'success' if job.conclusion == 'success' else 'failure'}"
            if action == "completed"
            else action
        )
        if key not in EXAMPLE_FOR_ACTION:
            raise RunnerSimError(f"no example payload for action {action!r}")
        payload: dict[str, Any] = json.loads((WEBHOOK_EXAMPLES / EXAMPLE_FOR_ACTION[key]).read_text("utf-8"))
        payload["action"] = action
        payload["repository"] = _retarget_repository(payload["repository"], job.repository)
        if "organization" in payload:
            payload["organization"]["login"] = job.repository.split("/", 1)[0]
        _update_job(payload["workflow_job"], job, action)
        return payload


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
        status="queued" if action == "queued" else job.status,
        conclusion=job.conclusion if action == "completed" else None,
        labels=list(job.labels),
        runner_id=job.runner_id,
        runner_name=job.runner_name,
        runner_group_id=job.runner_group_id,
        runner_group_name=DEFAULT_GROUP_NAME if job.runner_group_id is not None else None,
        name=job.name,
        workflow_name=job.workflow_name,
        created_at=iso(job.created_at),
        started_at=iso(job.started_at if job.started_at is not None else job.created_at),
        completed_at=iso(job.completed_at) if job.completed_at is not None else None,
    )
    if action == "queued":
        data["steps"] = []


def _retarget_repository(repository: dict[str, Any], full_name: str) -> dict[str, Any]:
    old_full_name = repository["full_name"]
    old_owner = repository["owner"]["login"]
    owner, name = full_name.split("/", 1)

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(old_full_name, full_name).replace(f"/{old_owner}", f"/{owner}")
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        return value

    result = dict(swap(copy.deepcopy(repository)))
    result.update(name=name, full_name=full_name)
    result["owner"]["login"] = owner
    return result
