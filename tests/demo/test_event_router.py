"""The EventBridge stand-in: deployed rules and targets, moto's matcher, async retries, the DLQ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from ecsrunner_sandbox.event_router import EventBus
from ecsrunner_sandbox.lambda_host import Invocation

from tests.demo.conftest import create_function, make_zip

CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/ours"
TARGET = "arn:aws:lambda:us-east-1:123456789012:function:control-plane"
JANITOR = "arn:aws:lambda:us-east-1:123456789012:function:janitor"


class Recorder:
    def __init__(self, failures: int = 0) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures = failures

    def __call__(self, function: str, event: dict[str, Any]) -> Invocation:
        self.calls.append((function, event))
        name = function.rsplit(":", 1)[-1]
        if len(self.calls) <= self.failures:
            return Invocation(name, f"r{len(self.calls)}", error={"errorType": "Boom", "errorMessage": "no"})
        return Invocation(name, f"r{len(self.calls)}", {"outcome": "noop"})


def deploy_rules(session: boto3.Session) -> str:
    events, sqs = session.client("events"), session.client("sqs")
    queue = sqs.create_queue(QueueName="failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {"clusterArn": [CLUSTER]},
    }
    events.put_rule(Name="ecs", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="ecs", Targets=[{"Id": "cp", "Arn": TARGET}])
    events.put_rule(Name="janitor", ScheduleExpression="rate(5 minutes)")
    events.put_targets(Rule="janitor", Targets=[{"Id": "j", "Arn": JANITOR}])
    return queue_arn


def bus_for(session: boto3.Session, invoke: Recorder) -> EventBus:
    bus = EventBus(
        events_client=session.client("events"),
        lambda_client=session.client("lambda"),
        sqs_client=session.client("sqs"),
        invoke=invoke,
        account="123456789012",
        region="us-east-1",
    )
    bus.load()
    return bus


def task_event(cluster: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "1",
        "source": "aws.ecs",
        "detail-type": "ECS Task State Change",
        "account": "123456789012",
        "region": "us-east-1",
        "time": "2026-01-01T00:00:00Z",
        "resources": [],
        "detail": {"clusterArn": cluster, "lastStatus": "RUNNING"},
    }


def test_an_event_reaches_the_targets_of_matching_rules_only(aws: boto3.Session) -> None:
    deploy_rules(aws)
    invoke = Recorder()
    bus = bus_for(aws, invoke)

    delivered = bus.put_event(task_event(CLUSTER))
    dropped = bus.put_event(task_event("arn:aws:ecs:us-east-1:123456789012:cluster/theirs"))

    assert [d.rule for d in delivered] == ["ecs"] and delivered[0].ok
    assert dropped == []
    assert [function for function, _ in invoke.calls] == [TARGET]
    assert invoke.calls[0][1]["detail"]["clusterArn"] == CLUSTER
    assert bus.stats.unmatched == 1 and bus.stats.by_rule == {"ecs": 1}


def test_a_failing_function_is_retried_then_dead_lettered(aws: boto3.Session, tmp_path: Path) -> None:
    queue_arn = deploy_rules(aws)
    zip_path = make_zip(tmp_path / "fn.zip", {"app.py": "def handler(e, c):\n    return e\n"})
    create_function(aws, "control-plane", zip_path)
    aws.client("lambda").put_function_event_invoke_config(
        FunctionName="control-plane",
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    invoke = Recorder(failures=10)
    bus = bus_for(aws, invoke)

    (delivery,) = bus.put_event(task_event(CLUSTER))

    assert not delivery.ok and delivery.attempts == 2 and delivery.dead_lettered
    assert len(invoke.calls) == 2
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName="failures")["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"]["detail"]["clusterArn"] == CLUSTER
    assert record["responsePayload"]["errorType"] == "Boom"


def test_a_transient_failure_is_retried_and_succeeds(aws: boto3.Session) -> None:
    deploy_rules(aws)
    invoke = Recorder(failures=1)
    bus = bus_for(aws, invoke)
    (delivery,) = bus.put_event(task_event(CLUSTER))
    assert delivery.ok and delivery.attempts == 2 and not delivery.dead_lettered


def test_a_schedule_fires_the_documented_scheduled_event(aws: boto3.Session) -> None:
    deploy_rules(aws)
    invoke = Recorder()
    bus = bus_for(aws, invoke)
    assert [rule.name for rule in bus.schedule_rules()] == ["janitor"]

    (delivery,) = bus.fire_schedule("janitor")

    function, event = invoke.calls[0]
    assert function == JANITOR and delivery.ok
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"] == [bus.rule("janitor").arn] and event["account"] == "123456789012"
    assert not bus.rule("janitor").matches(task_event(CLUSTER))
