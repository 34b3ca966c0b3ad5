"""Where a runner task's log is in CloudWatch Logs, and reading it page by page.

The awslogs driver names a task's stream ``<awslogs-stream-prefix>/<container name>/<task id>``. The
prefix is read from the base task definition's log configuration (DescribeTaskDefinition), which
every per-image copy keeps; the log group is ``RUNNER_LOG_GROUP``, else that configuration's
``awslogs-group``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ecsrunner_core.settings import Settings

from .failures import CliError


@dataclass(frozen=True)
class LogStream:
    group: str
    name: str


@dataclass(frozen=True)
class LogEvent:
    at: datetime
    message: str


@dataclass(frozen=True)
class LogPage:
    events: list[LogEvent]
    token: str | None  # nextForwardToken: where the next read starts


def task_id(task_arn: str) -> str:
    return task_arn.rsplit("/", 1)[-1]


def runner_log_stream(ecs: Any, settings: Settings, task_arn: str) -> LogStream:
    """The stream of ``task_arn``'s runner container, as the base task definition configures it."""
    definition = ecs.describe_task_definition(taskDefinition=settings.base_task_definition_arn)
    containers = definition["taskDefinition"].get("containerDefinitions", [])
    container = next((c for c in containers if c.get("name") == settings.container_name), None)
    where = f"base task definition {settings.base_task_definition_arn}"
    if container is None:
        raise CliError(f"{where} has no container {settings.container_name!r} (RUNNER_CONTAINER_NAME)")
    configuration: Mapping[str, Any] = container.get("logConfiguration") or {}
    options: Mapping[str, str] = configuration.get("options") or {}
    prefix = options.get("awslogs-stream-prefix")
    if configuration.get("logDriver") != "awslogs" or not prefix:
        raise CliError(
            f"{where}: container {settings.container_name!r} does not log to CloudWatch Logs "
            "(logDriver awslogs with an awslogs-stream-prefix)"
        )
    group = settings.log_group_name or options.get("awslogs-group", "")
    if not group:
        raise CliError(f"no log group: set RUNNER_LOG_GROUP (the {where} names none)")
    return LogStream(group, f"{prefix}/{settings.container_name}/{task_id(task_arn)}")


def read_page(
    logs: Any,
    stream: LogStream,
    *,
    token: str | None = None,
    start: datetime | None = None,
    last: int | None = None,
) -> LogPage | None:
    """One GetLogEvents page: from the head (or ``token``), or the ``last`` events. None: no stream yet."""
    # A forward token needs startFromHead=true (GetLogEvents); startTime stays the same on every page.
    request: dict[str, Any] = {
        "logGroupName": stream.group,
        "logStreamName": stream.name,
        "startFromHead": token is not None or last is None,
    }
    if token is not None:
        request["nextToken"] = token
    elif last is not None:
        request["limit"] = last
    if start is not None:
        request["startTime"] = int(start.timestamp() * 1000)
    try:
        answer = logs.get_log_events(**request)
    except logs.exceptions.ResourceNotFoundException:
        return None
    events = [
        LogEvent(datetime.fromtimestamp(event["timestamp"] / 1000, UTC), str(event.get("message", "")))
        for event in answer.get("events", [])
    ]
    return LogPage(events, answer.get("nextForwardToken"))
