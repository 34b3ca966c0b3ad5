"""ECS task state-change events for moto's tasks, which emit none.

Events start from AWS's documented example (``ecs-task-state-change.running.docs.json``) and take
the task's own fields from ``DescribeTasks``. moto's gaps are filled from what the sandbox knows:
tasks start in RUNNING (the PENDING step AWS reports first is added), ``createdAt``/``startedAt``
are missing (the times the watcher saw them are used), and ``StopTask`` sets no ``stopCode`` (the
caller says why the task stopped: the essential container exited, or someone called StopTask).
"""

from __future__ import annotations

import copy
import json
import secrets
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EVENTS_FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "aws" / "events"
TASK_EVENT_EXAMPLE = EVENTS_FIXTURES / "ecs-task-state-change.running.docs.json"
ESSENTIAL_CONTAINER_EXITED = "EssentialContainerExited"
USER_INITIATED = "UserInitiated"
PLATFORM_VERSION = "1.4.0"


def _iso_ms(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


@dataclass
class TaskTimeline:
    """What the sandbox saw of one task: the times and the last status it reported."""

    task_arn: str
    created_at: datetime
    version: int = 0
    reported: str | None = None  # last lastStatus sent in an event
    started_at: datetime | None = None
    stopping_at: datetime | None = None
    stopped_at: datetime | None = None
    runtime_id: str = field(default_factory=lambda: secrets.token_hex(32))


@dataclass(frozen=True)
class StopCause:
    stop_code: str
    exit_code: int | None
    container_reason: str | None = None


def _container_arn(task_arn: str) -> str:
    region_account, _, rest = task_arn.partition(":task/")
    return f"{region_account}:container/{rest}/{uuid.uuid5(uuid.NAMESPACE_URL, task_arn)}"


def task_state_change(
    task: Mapping[str, Any],
    timeline: TaskTimeline,
    *,
    last_status: str,
    account: str,
    region: str,
    cause: StopCause | None = None,
    image_digest: str | None = None,
) -> dict[str, Any]:
    """The "ECS Task State Change" event for ``task`` (a DescribeTasks item) now in ``last_status``."""
    event: dict[str, Any] = copy.deepcopy(json.loads(TASK_EVENT_EXAMPLE.read_text("utf-8")))
    now = datetime.now(UTC)
    timeline.version += 1
    timeline.reported = last_status
    task_arn = task["taskArn"]
    overrides = task.get("overrides") or {}
    attachment = next(iter(task.get("attachments") or []), None)
    details = {d["name"]: d["value"] for d in (attachment or {}).get("details", [])}
    stopped = last_status == "STOPPED"
    containers = []
    for source in task.get("containers") or []:
        container: dict[str, Any] = {
            "containerArn": _container_arn(task_arn),
            "lastStatus": "PENDING" if last_status == "PENDING" else last_status,
            "name": source.get("name"),
            "image": source.get("image"),
            "taskArn": task_arn,
            "networkInterfaces": (
                [{"attachmentId": attachment["id"], "privateIpv4Address": details.get("privateIPv4Address")}]
                if attachment
                else []
            ),
            "cpu": source.get("cpu", "0"),
        }
        if last_status != "PENDING":
            container["runtimeId"] = timeline.runtime_id
            if image_digest:
                container["imageDigest"] = image_digest
        if stopped and cause is not None and cause.exit_code is not None:
            container["exitCode"] = cause.exit_code
        if stopped and cause is not None and cause.container_reason:
            container["reason"] = cause.container_reason
        containers.append(container)

    detail: dict[str, Any] = {
        "attachments": [
            {
                "id": attachment["id"],
                "type": "eni",
                "status": "DELETED" if stopped else "ATTACHED",
                "details": attachment.get("details", []),
            }
        ]
        if attachment
        else [],
        "availabilityZone": f"{region}a",
        "clusterArn": task["clusterArn"],
        "containers": containers,
        "createdAt": _iso_ms(timeline.created_at),
        "launchType": task.get("launchType") or "FARGATE",
        "cpu": str(overrides.get("cpu") or task.get("cpu") or ""),
        "memory": str(overrides.get("memory") or task.get("memory") or ""),
        "desiredStatus": "STOPPED" if stopped else task.get("desiredStatus", "RUNNING"),
        "group": task.get("group"),
        "lastStatus": last_status,
        "overrides": overrides,
        "connectivity": "CONNECTED",
        "connectivityAt": _iso_ms(timeline.created_at),
        "updatedAt": _iso_ms(now),
        "taskArn": task_arn,
        "taskDefinitionArn": task.get("taskDefinitionArn"),
        "version": timeline.version,
        "platformVersion": PLATFORM_VERSION,
    }
    if task.get("startedBy"):
        detail["startedBy"] = task["startedBy"]
    if last_status in ("RUNNING", "STOPPED"):
        timeline.started_at = timeline.started_at or now
        detail.update(
            pullStartedAt=_iso_ms(timeline.created_at),
            pullStoppedAt=_iso_ms(timeline.started_at),
            startedAt=_iso_ms(timeline.started_at),
        )
    if stopped:
        timeline.stopped_at = timeline.stopped_at or now
        timeline.stopping_at = timeline.stopping_at or timeline.stopped_at
        detail.update(
            stopCode=cause.stop_code if cause else USER_INITIATED,
            stoppedReason=task.get("stoppedReason") or "",
            stoppingAt=_iso_ms(timeline.stopping_at),
            executionStoppedAt=_iso_ms(timeline.stopped_at),
            stoppedAt=_iso_ms(timeline.stopped_at),
        )
    event.update(
        id=str(uuid.uuid4()),
        account=account,
        region=region,
        time=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        resources=[task_arn],
        detail=detail,
    )
    return event


def other_cluster_event(account: str, region: str, cluster_name: str) -> dict[str, Any]:
    """A task event of a cluster that is not ours (what another team's tasks put on the same bus)."""
    cluster_arn = f"arn:aws:ecs:{region}:{account}:cluster/{cluster_name}"
    task_arn = f"arn:aws:ecs:{region}:{account}:task/{cluster_name}/{uuid.uuid4().hex}"
    task = {
        "taskArn": task_arn,
        "clusterArn": cluster_arn,
        "containers": [{"name": "web", "image": "public.ecr.aws/nginx/nginx:1.27"}],
        "desiredStatus": "RUNNING",
        "group": "service:web",
        "launchType": "FARGATE",
        "overrides": {"containerOverrides": [{"name": "web"}]},
        "taskDefinitionArn": f"arn:aws:ecs:{region}:{account}:task-definition/web:7",
        "startedBy": "ecs-svc/1234567890123456789",
    }
    timeline = TaskTimeline(task_arn, datetime.now(UTC))
    return task_state_change(task, timeline, last_status="RUNNING", account=account, region=region)


@dataclass(frozen=True)
class TaskObservation:
    task: Mapping[str, Any]
    timeline: TaskTimeline
    new: bool

    @property
    def status(self) -> str:
        return str(self.task.get("lastStatus", ""))

    @property
    def tags(self) -> dict[str, str]:
        return {t["key"]: t["value"] for t in self.task.get("tags") or [] if "key" in t and "value" in t}


class EcsTaskWatcher:
    """Polls one cluster's tasks (moto keeps them in manual transition) and reports changes."""

    def __init__(self, ecs_client: Any, cluster_arn: str) -> None:
        self._ecs = ecs_client
        self.cluster_arn = cluster_arn
        self.timelines: dict[str, TaskTimeline] = {}

    def describe(self, arns: list[str]) -> list[dict[str, Any]]:
        tasks: list[dict[str, Any]] = []
        for start in range(0, len(arns), 100):
            response = self._ecs.describe_tasks(
                cluster=self.cluster_arn, tasks=arns[start : start + 100], include=["TAGS"]
            )
            tasks += response.get("tasks", [])
        return tasks

    def _arns(self) -> list[str]:
        arns: list[str] = []
        for desired in ("RUNNING", "STOPPED"):
            paginator = self._ecs.get_paginator("list_tasks")
            for page in paginator.paginate(cluster=self.cluster_arn, desiredStatus=desired):
                arns += page.get("taskArns", [])
        return arns

    def poll(self) -> Iterator[TaskObservation]:
        """Tasks that are new, or whose status differs from the last one reported (oldest job first)."""
        changed = []
        seen_at = datetime.now(UTC)  # one instant per poll: tasks seen together are ordered by job
        for task in self.describe(self._arns()):
            arn = task["taskArn"]
            timeline = self.timelines.get(arn)
            new = timeline is None
            if timeline is None:
                timeline = self.timelines[arn] = TaskTimeline(arn, seen_at)
            if new or timeline.reported != task.get("lastStatus"):
                changed.append(TaskObservation(task, timeline, new))
        changed.sort(key=lambda o: (o.timeline.created_at, _job_order(o.tags)))
        yield from changed

    def running_tasks(self) -> list[str]:
        arns: list[str] = []
        for page in self._ecs.get_paginator("list_tasks").paginate(
            cluster=self.cluster_arn, desiredStatus="RUNNING"
        ):
            arns += page.get("taskArns", [])
        return [t["taskArn"] for t in self.describe(arns) if t.get("lastStatus") != "STOPPED"]


def _job_order(tags: Mapping[str, str]) -> int:
    value = tags.get("ecsrunner:job-id", "")
    return int(value) if value.isdigit() else 0
