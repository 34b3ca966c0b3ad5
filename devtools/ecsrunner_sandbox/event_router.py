"""EventBridge's default bus as deployed: rules and targets read back, events matched and delivered.

An event goes to every rule whose pattern matches it (moto's own pattern matcher); a rule's Lambda
targets are invoked as EventBridge does, asynchronously: a function error is retried up to the
function's ``MaximumRetryAttempts`` (its event invoke config; AWS's delays between tries are
skipped) and then sent to the on-failure destination (an SQS queue) as Lambda's destination
record. Scheduled rules run when the caller says their time has come.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .lambda_host import Invocation

EVENTS_FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "aws" / "events"
SCHEDULED_EVENT_EXAMPLE = EVENTS_FIXTURES / "scheduled-event.docs.json"
DEFAULT_ASYNC_RETRIES = 2


def event_time(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Rule:
    name: str
    arn: str
    pattern: str | None
    schedule: str | None
    target_arns: tuple[str, ...]

    def matches(self, event: Mapping[str, Any]) -> bool:
        if self.pattern is None:
            return False
        from moto.events.models import EventPattern

        matcher: Any = EventPattern.load(self.pattern)
        return bool(matcher.matches_event(dict(event)))


@dataclass(frozen=True)
class AsyncPolicy:
    retries: int
    on_failure: str | None  # destination ARN


@dataclass
class Delivery:
    rule: str
    function: str
    invocation: Invocation
    attempts: int
    dead_lettered: bool = False

    @property
    def ok(self) -> bool:
        return self.invocation.ok


@dataclass
class BusStats:
    events: int = 0
    unmatched: int = 0
    deliveries: int = 0
    failed_attempts: int = 0
    dead_lettered: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


class EventBus:
    def __init__(
        self,
        *,
        events_client: Any,
        lambda_client: Any,
        sqs_client: Any,
        invoke: Callable[[str, dict[str, Any]], Invocation],
        account: str,
        region: str,
    ) -> None:
        self._events = events_client
        self._lambda = lambda_client
        self._sqs = sqs_client
        self._invoke = invoke
        self.account = account
        self.region = region
        self.rules: tuple[Rule, ...] = ()
        self._policies: dict[str, AsyncPolicy] = {}
        self.stats = BusStats()

    def load(self, bus: str = "default") -> tuple[Rule, ...]:
        rules = []
        for page in self._events.get_paginator("list_rules").paginate(EventBusName=bus):
            for item in page.get("Rules", []):
                if item.get("State", "ENABLED") != "ENABLED":
                    continue
                targets = self._events.list_targets_by_rule(Rule=item["Name"], EventBusName=bus)["Targets"]
                rules.append(
                    Rule(
                        name=item["Name"],
                        arn=item["Arn"],
                        pattern=item.get("EventPattern"),
                        schedule=item.get("ScheduleExpression"),
                        target_arns=tuple(t["Arn"] for t in targets),
                    )
                )
        self.rules = tuple(rules)
        for rule in self.rules:
            for arn in rule.target_arns:
                if ":lambda:" in arn and arn not in self._policies:
                    self._policies[arn] = self._async_policy(arn)
        return self.rules

    def _async_policy(self, function_arn: str) -> AsyncPolicy:
        try:
            config = self._lambda.get_function_event_invoke_config(FunctionName=function_arn)
        except self._lambda.exceptions.ResourceNotFoundException:
            return AsyncPolicy(DEFAULT_ASYNC_RETRIES, None)
        destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        return AsyncPolicy(int(config.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRIES)), destination)

    def rule(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise LookupError(f"no rule {name!r} on the bus")

    def schedule_rules(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.schedule]

    def put_event(self, event: Mapping[str, Any]) -> list[Delivery]:
        """Deliver to every matching rule's targets; an empty list means no rule matched (dropped)."""
        self.stats.events += 1
        matched = [rule for rule in self.rules if rule.matches(event)]
        if not matched:
            self.stats.unmatched += 1
        deliveries = []
        for rule in matched:
            self.stats.by_rule[rule.name] = self.stats.by_rule.get(rule.name, 0) + 1
            deliveries += [self._deliver(rule, arn, dict(event)) for arn in rule.target_arns]
        return deliveries

    def scheduled_event(self, rule: Rule, at: datetime | None = None) -> dict[str, Any]:
        """The event EventBridge sends when ``rule``'s schedule fires (AWS's documented example)."""
        event: dict[str, Any] = copy.deepcopy(json.loads(SCHEDULED_EVENT_EXAMPLE.read_text("utf-8")))
        event.update(
            id=str(uuid.uuid4()),
            account=self.account,
            region=self.region,
            time=event_time(at),
            resources=[rule.arn],
        )
        return event

    def fire_schedule(self, rule_name: str) -> list[Delivery]:
        rule = self.rule(rule_name)
        event = self.scheduled_event(rule)
        self.stats.events += 1
        self.stats.by_rule[rule.name] = self.stats.by_rule.get(rule.name, 0) + 1
        return [self._deliver(rule, arn, event) for arn in rule.target_arns]

    def _deliver(self, rule: Rule, target_arn: str, event: dict[str, Any]) -> Delivery:
        policy = self._policies.get(target_arn, AsyncPolicy(DEFAULT_ASYNC_RETRIES, None))
        attempts = 0
        while True:
            attempts += 1
            invocation = self._invoke(target_arn, event)
            self.stats.deliveries += 1
            if invocation.ok or attempts > policy.retries:
                break
            self.stats.failed_attempts += 1
        delivery = Delivery(rule.name, invocation.function_name, invocation, attempts)
        if not invocation.ok:
            self.stats.failed_attempts += 1
            delivery.dead_lettered = self._dead_letter(policy, target_arn, event, invocation, attempts)
        return delivery

    def _dead_letter(
        self,
        policy: AsyncPolicy,
        function_arn: str,
        event: dict[str, Any],
        invocation: Invocation,
        attempts: int,
    ) -> bool:
        if policy.on_failure is None or ":sqs:" not in policy.on_failure:
            return False
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": invocation.request_id,
                "functionArn": f"{function_arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": invocation.error,
        }
        name = policy.on_failure.rsplit(":", 1)[1]
        url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
        self._sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
        self.stats.dead_lettered += 1
        return True
