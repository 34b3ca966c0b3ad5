"""Control-plane inputs built from the real samples in tests/fixtures.

Changed from the samples: ids, labels (ours), repository, runner fields, the API Gateway path/method/
headers/body, and for ECS events the cluster, task ARN, ``startedBy`` and statuses.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from ecsrunner_core.webhook import sign

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
OUR_LABELS = ("self-hosted", "linux")
WEBHOOK_EXAMPLES = {
    "queued": "workflow_job.queued.json",
    "in_progress": "workflow_job.in_progress.json",
    "completed": "workflow_job.completed.success.with-organization.json",
}


@cache
def _fixture(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8-sig"))


def fixture(relative: str) -> Any:
    """A fresh copy of a fixture (callers change it)."""
    return copy.deepcopy(_fixture(relative))


def job_payload(
    action: str,
    *,
    job_id: int,
    repository: str,
    labels: tuple[str, ...] = OUR_LABELS,
    runner_name: str | None = None,
    runner_id: int | None = None,
    queued_at: datetime | None = None,
) -> dict[str, Any]:
    """``queued_at`` (default: now) is when GitHub queued the job (``created_at``): the core counts
    the launch wait and the job-start latency from it, so a sample's date from years ago would not do."""
    payload: dict[str, Any] = fixture(f"github/webhooks/{WEBHOOK_EXAMPLES[action]}")
    owner, name = repository.split("/", 1)
    payload["repository"].update(full_name=repository, name=name)
    payload["repository"]["owner"]["login"] = owner
    if isinstance(payload.get("organization"), dict):
        payload["organization"]["login"] = owner
    job = payload["workflow_job"]
    job.update(id=job_id, labels=list(labels), runner_name=runner_name, runner_id=runner_id)
    queued = (queued_at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    job["created_at"] = queued
    if action == "queued":
        job["started_at"] = queued
    if runner_name is None:
        job.update(runner_group_id=None, runner_group_name=None)
    return payload


def webhook_event(
    payload: dict[str, Any], *, secret: str, delivery: str, event: str = "workflow_job"
) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event as API Gateway delivers GitHub's signed POST /webhook."""
    body = json.dumps(payload).encode()
    headers = {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/0ab7a43",
        "x-github-event": event,
        "x-github-delivery": delivery,
        "x-github-hook-id": "1",
        "x-hub-signature-256": sign(secret.encode(), body),
    }
    apigw: dict[str, Any] = fixture("aws/apigateway/http-api.v2.docs.json")
    apigw.update(
        rawPath="/webhook", rawQueryString="", headers=headers, body=body.decode(), isBase64Encoded=False
    )
    apigw.pop("cookies", None)
    apigw.pop("queryStringParameters", None)
    apigw["requestContext"]["http"].update(
        method="POST", path="/webhook", userAgent="GitHub-Hookshot/0ab7a43"
    )
    apigw["requestContext"]["requestId"] = delivery
    return apigw


def ecs_task_event(*, cluster_arn: str, task_arn: str, last_status: str, started_by: str) -> dict[str, Any]:
    """An ECS Task State Change from the AWS docs sample (Fargate, RUNNING), retargeted."""
    event: dict[str, Any] = fixture("aws/events/ecs-task-state-change.running.docs.json")
    parts = cluster_arn.split(":")
    event.update(account=parts[4], region=parts[3], resources=[task_arn])
    detail = event["detail"]
    stopped = last_status == "STOPPED"
    detail.update(clusterArn=cluster_arn, taskArn=task_arn, lastStatus=last_status, startedBy=started_by)
    detail["desiredStatus"] = "STOPPED" if stopped else "RUNNING"
    container = detail["containers"][0]
    container.update(name="runner", taskArn=task_arn, lastStatus="STOPPED" if stopped else last_status)
    detail["overrides"]["containerOverrides"][0]["name"] = "runner"
    if stopped:
        detail.update(stopCode="EssentialContainerExited", stoppedReason="Essential container in task exited")
        container["exitCode"] = 0
    return event


def build_event(*, build_arn: str, project: str, status: str, image_tag: str) -> dict[str, Any]:
    """A CodeBuild Build State Change from the AWS docs sample, retargeted."""
    event: dict[str, Any] = fixture("aws/events/codebuild-build-state-change.succeeded.docs.json")
    parts = build_arn.split(":")
    event.update(account=parts[4], region=parts[3], resources=[build_arn])
    detail = event["detail"]
    detail.update({"build-status": status, "project-name": project, "build-id": build_arn})
    detail["additional-information"]["environment"]["environment-variables"] = [
        {"name": "IMAGE_TAG", "type": "PLAINTEXT", "value": image_tag}
    ]
    return event
