"""Waker on AWS: an asynchronous Lambda invocation of the janitor, or a one-time EventBridge
Scheduler schedule that invokes it (deleted by the scheduler after it fired)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

RESUME_EVENT = {"ecsrunner": "resume-launches"}


class JanitorWaker:
    def __init__(
        self,
        lambda_client: Any,
        scheduler_client: Any,
        *,
        function_arn: str,
        role_arn: str,
        schedule_name: str,
    ) -> None:
        self._lambda = lambda_client
        self._scheduler = scheduler_client
        self._function_arn = function_arn
        self._role_arn = role_arn
        self._schedule_name = schedule_name

    def wake_now(self) -> None:
        self._lambda.invoke(
            FunctionName=self._function_arn, InvocationType="Event", Payload=json.dumps(RESUME_EVENT).encode()
        )

    def wake_at(self, when: datetime) -> None:
        """The scheduler fires within the minute it is given: ask for the first whole minute at or
        after ``when``, so it never fires before the pause ends."""
        minute = when.astimezone(UTC).replace(second=0, microsecond=0)
        if minute < when:
            minute += timedelta(minutes=1)
        request: dict[str, Any] = {
            "Name": self._schedule_name,
            "ScheduleExpression": f"at({minute.strftime('%Y-%m-%dT%H:%M:%S')})",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "State": "ENABLED",
            "Target": {
                "Arn": self._function_arn,
                "RoleArn": self._role_arn,
                "Input": json.dumps(RESUME_EVENT),
                "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
            },
        }
        try:
            self._scheduler.update_schedule(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            self._scheduler.create_schedule(**request)
