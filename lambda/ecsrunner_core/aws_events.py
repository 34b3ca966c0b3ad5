"""EventBridge events the control plane consumes: ECS task state and CodeBuild build state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ECS_TASK_STATE_CHANGE = "ECS Task State Change"
CODEBUILD_BUILD_STATE_CHANGE = "CodeBuild Build State Change"


class MalformedEvent(ValueError):
    """The event is not the shape AWS documents (the only error the parsers raise)."""


def _detail(event: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(event, Mapping):
        raise MalformedEvent("event must be a JSON object")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise MalformedEvent("event has no detail object")
    return detail


def _str(detail: Mapping[str, Any], key: str, *, optional: bool = False) -> str | None:
    value = detail.get(key)
    if optional and (value is None or value == ""):
        return None
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"detail.{key} must be a non-empty string")
    return value


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _optional_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _objects(value: object, where: str) -> list[Mapping[str, Any]]:
    """The objects in the list at ``where``: absent is empty, a non-list is malformed."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise MalformedEvent(f"{where} must be a list")
    return [item for item in value if isinstance(item, Mapping)]


@dataclass(frozen=True)
class ContainerState:
    name: str
    last_status: str | None
    exit_code: int | None
    reason: str | None


@dataclass(frozen=True)
class TaskStateChange:
    cluster_arn: str
    task_arn: str
    last_status: str
    desired_status: str | None
    started_by: str | None
    stop_code: str | None
    stopped_reason: str | None
    containers: tuple[ContainerState, ...]
    version: int | None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> TaskStateChange:
        detail = _detail(event)
        containers = [
            ContainerState(
                name=_optional_str(item.get("name")) or "",
                last_status=_optional_str(item.get("lastStatus")),
                exit_code=_optional_int(item.get("exitCode")),
                reason=_optional_str(item.get("reason")),
            )
            for item in _objects(detail.get("containers"), "detail.containers")
        ]
        return cls(
            cluster_arn=_str(detail, "clusterArn") or "",
            task_arn=_str(detail, "taskArn") or "",
            last_status=_str(detail, "lastStatus") or "",
            desired_status=_str(detail, "desiredStatus", optional=True),
            started_by=_str(detail, "startedBy", optional=True),
            stop_code=_str(detail, "stopCode", optional=True),
            stopped_reason=_str(detail, "stoppedReason", optional=True),
            containers=tuple(containers),
            version=_optional_int(detail.get("version")),
        )

    @property
    def exit_code(self) -> int | None:
        codes = [c.exit_code for c in self.containers if c.exit_code is not None]
        return codes[0] if codes else None

    def failure_reason(self) -> str:
        parts = [f"task stopped ({self.stop_code or 'no stop code'})"]
        if self.stopped_reason:
            parts.append(self.stopped_reason)
        for container in self.containers:
            if container.reason:
                parts.append(f"{container.name}: {container.reason}")
        if self.exit_code is not None:
            parts.append(f"exit code {self.exit_code}")
        return "; ".join(parts)


@dataclass(frozen=True)
class BuildStateChange:
    build_id: str
    project_name: str
    status: str
    environment: Mapping[str, str]
    log_url: str | None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> BuildStateChange:
        detail = _detail(event)
        info = detail.get("additional-information")
        info = info if isinstance(info, Mapping) else {}
        environment: dict[str, str] = {}
        env = info.get("environment")
        if isinstance(env, Mapping):
            where = "detail.additional-information.environment.environment-variables"
            for var in _objects(env.get("environment-variables"), where):
                name, value = var.get("name"), var.get("value")
                if isinstance(name, str):
                    environment[name] = "" if value is None else str(value)
        logs = info.get("logs")
        log_url = logs.get("deep-link") if isinstance(logs, Mapping) else None
        return cls(
            build_id=_str(detail, "build-id") or "",
            project_name=_str(detail, "project-name") or "",
            status=_str(detail, "build-status") or "",
            environment=environment,
            log_url=log_url if isinstance(log_url, str) else None,
        )
