"""TaskLauncher on ECS Fargate: RunTask with environment files, StopTask, orphan listing, task definitions."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
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


_CAPACITY_MARKERS = ("capacity is unavailable", "insufficient capacity", "no capacity", "resource:")


def _is_capacity(message: str) -> bool:
    """Fargate's "Capacity is unavailable at this time" and RESOURCE:* placement failures."""
    lowered = message.lower()
    return any(marker in lowered for marker in _CAPACITY_MARKERS)


class EcsTaskLauncher:
    def __init__(self, client: ECSClient, settings: Settings) -> None:
        self._ecs = client
        self._settings = settings
        self._base: dict[str, Any] | None = None
        self._definitions: dict[tuple[str, str], str] = {}

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
                yield TaskInfo(
                    task_arn=task["taskArn"],
                    last_status=str(task.get("lastStatus", "")),
                    started_by=task.get("startedBy"),
                    tags={t["key"]: t["value"] for t in task.get("tags", []) if "key" in t and "value" in t},
                    created_at=task.get("createdAt"),
                )

    def ensure_task_definition(self, image_uri: str, architecture: str) -> str:
        """One task definition family per (image, architecture), copied from the base definition."""
        key = (image_uri, architecture)
        if key in self._definitions:
            return self._definitions[key]
        digest = hashlib.sha256(f"{image_uri}\n{architecture}".encode()).hexdigest()[:16]
        family = f"{self._settings.name}-runner-{digest}"
        ecs_arch = "ARM64" if architecture == "arm64" else "X86_64"
        try:
            existing = self._ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
            containers = existing.get("containerDefinitions", [])
            if any(c.get("image") == image_uri for c in containers) and (
                existing.get("runtimePlatform", {}).get("cpuArchitecture") == ecs_arch
            ):
                self._definitions[key] = existing["taskDefinitionArn"]
                return self._definitions[key]
        except ClientError as exc:
            if "ClientException" not in str(exc.response.get("Error", {}).get("Code", "")):
                raise
        base = self._base_definition()
        definition = {k: base[k] for k in _TASK_DEFINITION_FIELDS if base.get(k) is not None}
        definition["containerDefinitions"] = [
            {**c, "image": image_uri} if c.get("name") == self._settings.container_name else c
            for c in base["containerDefinitions"]
        ]
        definition["runtimePlatform"] = {"cpuArchitecture": ecs_arch, "operatingSystemFamily": "LINUX"}
        arn = self._ecs.register_task_definition(
            family=family,
            tags=[{"key": "ecsrunner:deployment", "value": self._settings.name}],
            **definition,
        )["taskDefinition"]["taskDefinitionArn"]
        self._definitions[key] = arn
        return arn

    def _base_definition(self) -> dict[str, Any]:
        if self._base is None:
            self._base = dict(
                self._ecs.describe_task_definition(taskDefinition=self._settings.base_task_definition_arn)[
                    "taskDefinition"
                ]
            )
        return self._base
