"""TaskLauncher on ECS Fargate: RunTask with environment files, StopTask, orphan listing, task definitions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..ports import LaunchError, TaskInfo, TaskRequest
from ..settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

_TRANSIENT_CODES = frozenset(
    {"ThrottlingException", "ServerException", "ServiceUnavailableException", "LimitExceededException"}
)
_TASK_DEFINITION_FIELDS = (
    "containerDefinitions",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "volumes",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "ephemeralStorage",
    "pidMode",
    "ipcMode",
)


CONTENT_TAG = "ecsrunner:definition-sha256"
_CAPACITY_MARKERS = ("capacity is unavailable", "insufficient capacity", "no capacity", "resource:")


def _is_capacity(message: str) -> bool:
    """Fargate's "Capacity is unavailable at this time" and RESOURCE:* placement failures."""
    lowered = message.lower()
    return any(marker in lowered for marker in _CAPACITY_MARKERS)


class EcsTaskLauncher:
    def __init__(self, client: ECSClient, settings: Settings) -> None:
        self._ecs = client
        self._settings = settings
        self._base: tuple[str, dict[str, Any]] | None = None
        self._definitions: dict[tuple[str, str, str], str] = {}

    def run_task(self, request: TaskRequest) -> str:
        settings = self._settings
        overrides: dict[str, Any] = {
            "cpu": str(request.cpu),
            "memory": str(request.memory),
            "containerOverrides": [
                {
                    "name": settings.container_name,
                    "environmentFiles": [{"value": request.environment_file_arn, "type": "s3"}],
                }
            ],
        }
        if request.ephemeral_storage_gib:
            overrides["ephemeralStorage"] = {"sizeInGiB": request.ephemeral_storage_gib}
        kwargs: dict[str, Any] = {
            "cluster": settings.cluster_arn,
            "taskDefinition": request.task_definition_arn,
            "count": 1,
            "startedBy": request.runner_name,
            "clientToken": request.client_token,
            "enableECSManagedTags": True,
            "tags": [{"key": k, "value": v} for k, v in sorted(request.tags.items())],
            "overrides": overrides,
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": list(settings.subnet_ids),
                    "securityGroups": list(settings.security_group_ids),
                    "assignPublicIp": "ENABLED" if settings.assign_public_ip else "DISABLED",
                }
            },
        }
        if request.spot:
            kwargs["capacityProviderStrategy"] = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
        else:
            kwargs["launchType"] = "FARGATE"
        try:
            response = self._ecs.run_task(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = f"RunTask {code}: {exc.response.get('Error', {}).get('Message', '')}"
            raise LaunchError(
                message,
                transient=code in _TRANSIENT_CODES or _is_capacity(message),
                capacity=_is_capacity(message),
                definition_inactive=code == "ClientException" and "inactive" in message.lower(),
            ) from None
        tasks = response.get("tasks") or []
        if tasks:
            return str(tasks[0]["taskArn"])
        failures = response.get("failures") or []
        reasons = "; ".join(f"{f.get('reason', '?')} {f.get('detail', '')}".strip() for f in failures)
        raise LaunchError(
            f"RunTask failures: {reasons or 'no task and no failure reported'}",
            transient=True,
            capacity=_is_capacity(reasons),
        )

    def stop_task(self, task_arn: str, reason: str) -> None:
        try:
            self._ecs.stop_task(cluster=self._settings.cluster_arn, task=task_arn, reason=reason[:255])
        except ClientError as exc:
            message = str(exc.response.get("Error", {}).get("Message", "")).lower()
            if "not found" in message or "stopped" in message:
                return
            raise

    def list_tasks(self) -> Iterator[TaskInfo]:
        paginator = self._ecs.get_paginator("list_tasks")
        for page in paginator.paginate(cluster=self._settings.cluster_arn, desiredStatus="RUNNING"):
            arns = page.get("taskArns", [])
            if arns:
                yield from self._describe(arns)

    def running_task_arns(self) -> set[str]:
        paginator = self._ecs.get_paginator("list_tasks")
        arns: set[str] = set()
        for page in paginator.paginate(cluster=self._settings.cluster_arn, desiredStatus="RUNNING"):
            arns.update(page.get("taskArns", []))
        return arns

    def describe_tasks(self, task_arns: Sequence[str]) -> dict[str, TaskInfo | None]:
        found: dict[str, TaskInfo | None] = dict.fromkeys(task_arns)
        for task in self._describe(list(task_arns)):
            found[task.task_arn] = task
        return found

    def find_task(self, runner_name: str) -> TaskInfo | None:
        for status in ("RUNNING", "STOPPED"):
            arns = self._ecs.list_tasks(
                cluster=self._settings.cluster_arn, startedBy=runner_name, desiredStatus=status
            ).get("taskArns", [])
            for task in self._describe(arns):
                return task
        return None

    def _describe(self, arns: list[str]) -> Iterator[TaskInfo]:
        for start in range(0, len(arns), 100):
            response = self._ecs.describe_tasks(
                cluster=self._settings.cluster_arn, tasks=arns[start : start + 100], include=["TAGS"]
            )
            for task in response.get("tasks", []):
                yield self._task_info(task)

    def _task_info(self, task: Any) -> TaskInfo:
        runner: dict[str, Any] = next(
            (c for c in task.get("containers", []) if c.get("name") == self._settings.container_name), {}
        )
        exit_code = runner.get("exitCode")
        return TaskInfo(
            task_arn=task["taskArn"],
            last_status=str(task.get("lastStatus", "")),
            started_by=task.get("startedBy"),
            tags={t["key"]: t["value"] for t in task.get("tags", []) if "key" in t and "value" in t},
            created_at=task.get("createdAt"),
            desired_status=task.get("desiredStatus"),
            stop_code=task.get("stopCode"),
            stopped_reason=task.get("stoppedReason"),
            exit_code=exit_code if isinstance(exit_code, int) else None,
            container_reason=runner.get("reason"),
        )

    def ensure_task_definition(self, image_uri: str, architecture: str, *, refresh: bool = False) -> str:
        """One task definition family per (image, architecture), copied from the base definition.

        The family's latest ACTIVE revision is reused when its content hash (a tag) matches what the
        current base definition gives; otherwise a new revision is registered. So a change of the base
        (logging, environment, stop timeout, roles) reaches every image on its next launch.
        """
        base_arn = self._settings.base_task_definition_arn
        key = (image_uri, architecture, base_arn)
        if key in self._definitions and not refresh:
            return self._definitions[key]
        digest = hashlib.sha256(f"{image_uri}\n{architecture}".encode()).hexdigest()[:16]
        family = f"{self._settings.name}-runner-{digest}"
        definition = self._derived_definition(image_uri, architecture)
        content = hashlib.sha256(json.dumps(definition, sort_keys=True, default=str).encode()).hexdigest()
        try:
            existing = self._ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
        except ClientError as exc:
            if "ClientException" not in str(exc.response.get("Error", {}).get("Code", "")):
                raise
        else:
            tags = {t.get("key"): t.get("value") for t in existing.get("tags", [])}
            current = existing["taskDefinition"]
            if tags.get(CONTENT_TAG) == content and current.get("status", "ACTIVE") == "ACTIVE":
                self._definitions[key] = current["taskDefinitionArn"]
                return self._definitions[key]
        arn = self._ecs.register_task_definition(
            family=family,
            tags=[
                {"key": "ecsrunner:deployment", "value": self._settings.name},
                {"key": CONTENT_TAG, "value": content},
            ],
            **definition,
        )["taskDefinition"]["taskDefinitionArn"]
        self._definitions[key] = arn
        return arn

    def _derived_definition(self, image_uri: str, architecture: str) -> dict[str, Any]:
        base = self._base_definition()
        definition = {k: base[k] for k in _TASK_DEFINITION_FIELDS if base.get(k) is not None}
        definition["containerDefinitions"] = [
            {**c, "image": image_uri} if c.get("name") == self._settings.container_name else c
            for c in base["containerDefinitions"]
        ]
        ecs_arch = "ARM64" if architecture == "arm64" else "X86_64"
        definition["runtimePlatform"] = {"cpuArchitecture": ecs_arch, "operatingSystemFamily": "LINUX"}
        return definition

    def _base_definition(self) -> dict[str, Any]:
        arn = self._settings.base_task_definition_arn
        if self._base is None or self._base[0] != arn:
            described = self._ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
            self._base = (arn, dict(described))
        return self._base[1]
