"""Fargate and the runner container as the demo plays them, against moto and the GitHub stand-in.

The control plane is replaced by recorders here: what is checked is the ECS events (parsed by the
control plane's own parser), the environment file read, the runner's life in the stand-in and the
signed webhooks it sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from ecsrunner_core.aws_events import TaskStateChange
from ecsrunner_core.settings import Settings
from ecsrunner_core.webhook import verify_signature
from ecsrunner_sandbox.ecs_events import EcsTaskWatcher
from ecsrunner_sandbox.event_router import EventBus
from ecsrunner_sandbox.github_side import GitHubSide
from ecsrunner_sandbox.github_standin import GitHubStandIn
from ecsrunner_sandbox.lambda_host import Invocation
from ecsrunner_sandbox.provision import provision
from ecsrunner_sandbox.runner_tasks import Phase, RunnerTasks
from ecsrunner_sandbox.webhook_gateway import HttpApi, Route, WebhookGateway
from moto.moto_api import state_manager

REPO = "octo-org/octo-repo"
PAT = "ghp_testtoken000000000000000000000000000"
SECRET = "test-webhook-secret"
LABELS = ("self-hosted", "class:small")
MAX_TICKS = 20


@dataclass
class World:
    session: boto3.Session
    settings: Settings
    standin: GitHubStandIn
    gateway: WebhookGateway
    github: GitHubSide
    tasks: RunnerTasks
    events: list[dict[str, Any]]
    hooks: list[dict[str, Any]]


@pytest.fixture
def world(aws: boto3.Session) -> Iterator[World]:
    state_manager.set_transition(
        model_name="ecs::task", transition={"progression": "manual", "times": 1_000_000}
    )
    standin = GitHubStandIn(pat=PAT)
    standin.start()
    settings = provision(aws, github_api_url=standin.api_url).settings
    events_client = aws.client("events")
    pattern = {"source": ["aws.ecs"], "detail": {"clusterArn": [settings.cluster_arn]}}
    events_client.put_rule(Name="ecs", EventPattern=json.dumps(pattern))
    events_client.put_targets(
        Rule="ecs", Targets=[{"Id": "cp", "Arn": "arn:aws:lambda:us-east-1:1:function:cp"}]
    )
    events: list[dict[str, Any]] = []
    hooks: list[dict[str, Any]] = []

    def control_plane(function: str, event: dict[str, Any]) -> Invocation:
        if "requestContext" in event:
            hooks.append(event)
            return Invocation("cp", "r", {"statusCode": 200, "body": json.dumps({"outcome": "recorded"})})
        events.append(event)
        return Invocation("cp", "r", {"outcome": "recorded"})

    api = HttpApi("api", "", "123456789012", "us-east-1", (Route("POST /webhook", "cp", "2.0"),))
    gateway = WebhookGateway(api, control_plane)
    gateway.start()
    github = GitHubSide(standin, REPO, f"{gateway.origin}/webhook", SECRET)
    bus = EventBus(
        events_client=events_client,
        lambda_client=aws.client("lambda"),
        sqs_client=aws.client("sqs"),
        invoke=control_plane,
        account="123456789012",
        region="us-east-1",
    )
    bus.load()
    tasks = RunnerTasks(
        ecs_client=aws.client("ecs"),
        s3_client=aws.client("s3"),
        ecr_client=aws.client("ecr"),
        watcher=EcsTaskWatcher(aws.client("ecs"), settings.cluster_arn),
        bus=bus,
        github=github,
        log=lambda kind, text: None,
    )
    try:
        yield World(aws, settings, standin, gateway, github, tasks, events, hooks)
    finally:
        github.close()
        gateway.stop()
        standin.stop()
    standin.assert_no_violations()


def jit_config(world: World, name: str) -> str:
    response = requests.post(
        f"{world.standin.api_url}/repos/{REPO}/actions/runners/generate-jitconfig",
        headers={"Authorization": f"Bearer {PAT}", "X-GitHub-Api-Version": "2022-11-28"},
        json={"name": name, "runner_group_id": 1, "labels": list(LABELS)},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["encoded_jit_config"])


def run_task(world: World, name: str, env_file_body: str | None) -> str:
    settings, s3 = world.settings, world.session.client("s3")
    key = f"jit/{name}.env"
    if env_file_body is not None:
        s3.put_object(Bucket=settings.jit_bucket, Key=key, Body=env_file_body.encode())
    task = world.session.client("ecs").run_task(
        cluster=settings.cluster_arn,
        taskDefinition=settings.base_task_definition_arn,
        launchType="FARGATE",
        startedBy=name,
        tags=[{"key": "ecsrunner:job-id", "value": "1"}],
        overrides={
            "cpu": "512",
            "memory": "1024",
            "containerOverrides": [
                {
                    "name": "runner",
                    "environmentFiles": [
                        {"value": f"arn:aws:s3:::{settings.jit_bucket}/{key}", "type": "s3"}
                    ],
                }
            ],
        },
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(settings.subnet_ids),
                "securityGroups": list(settings.security_group_ids),
            }
        },
    )["tasks"][0]
    return str(task["taskArn"])


def tick_until_quiet(world: World) -> None:
    for _ in range(MAX_TICKS):
        if not world.tasks.tick():
            return
    raise AssertionError(f"still busy after {MAX_TICKS} ticks")


def parsed(world: World) -> list[TaskStateChange]:
    return [TaskStateChange.from_event(event) for event in world.events]


def test_a_runner_task_registers_runs_a_job_and_exits_cleanly(world: World) -> None:
    job = world.github.queue(LABELS, "lint", "ci")
    name = "ecsr-runner-one"
    arn = run_task(
        world,
        name,
        f"# written by the control plane\nACTIONS_RUNNER_INPUT_JITCONFIG={jit_config(world, name)}\n",
    )

    tick_until_quiet(world)

    changes = parsed(world)
    assert [c.last_status for c in changes] == ["PENDING", "RUNNING", "STOPPED"]
    assert all(c.task_arn == arn and c.started_by == name for c in changes)
    assert [c.version for c in changes] == [1, 2, 3]
    stopped = changes[-1]
    assert stopped.stop_code == "EssentialContainerExited" and stopped.exit_code == 0
    assert world.events[0]["detail"]["overrides"]["containerOverrides"][0]["environmentFiles"]
    assert job.status == "completed" and job.conclusion == "success" and job.runner_name == name
    assert world.standin.state.runners_in(f"repos/{REPO}") == []  # the ephemeral runner deregistered
    actions = [json.loads(hook["body"])["action"] for hook in world.hooks]
    assert actions == ["in_progress", "completed"]
    for hook in world.hooks:
        assert verify_signature(
            SECRET.encode(), hook["body"].encode(), hook["headers"]["x-hub-signature-256"]
        )
    ecs = world.session.client("ecs")
    task = ecs.describe_tasks(cluster=world.settings.cluster_arn, tasks=[arn])["tasks"][0]
    assert task["lastStatus"] == "STOPPED"
    assert world.tasks.containers[arn].phase is Phase.EXITED


def test_a_task_stopped_by_someone_reports_user_initiated(world: World) -> None:
    name = "ecsr-runner-two"
    arn = run_task(world, name, f"ACTIONS_RUNNER_INPUT_JITCONFIG={jit_config(world, name)}\n")
    tick_until_quiet(world)  # online, no job for it: idle
    assert world.tasks.containers[arn].phase is Phase.IDLE

    world.session.client("ecs").stop_task(
        cluster=world.settings.cluster_arn, task=arn, reason="runner timed out"
    )
    tick_until_quiet(world)

    stopped = parsed(world)[-1]
    assert stopped.last_status == "STOPPED" and stopped.stop_code == "UserInitiated"
    assert stopped.stopped_reason == "runner timed out"
    assert world.tasks.containers[arn].phase is Phase.EXITED
    (runner,) = world.standin.state.runners_in(f"repos/{REPO}")
    assert runner.status == "offline"


def test_a_missing_environment_file_fails_the_task_to_start(world: World) -> None:
    arn = run_task(world, "ecsr-runner-three", env_file_body=None)
    tick_until_quiet(world)
    changes = parsed(world)
    assert [c.last_status for c in changes] == ["PENDING", "STOPPED"]
    assert changes[-1].stop_code == "TaskFailedToStart"
    assert "ResourceInitializationError" in (changes[-1].stopped_reason or "")
    assert arn not in world.tasks.containers
