"""``EcsTaskLauncher`` against botocore's Stubber: what moto cannot run (capacityProviderStrategy)
and how RunTask's answers map to ``LaunchError``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from ecsrunner_core.adapters.ecs_launcher import EcsTaskLauncher
from ecsrunner_core.ports import LaunchError, TaskRequest
from ecsrunner_core.settings import Settings

CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/ecsr-runners"
TASK_DEF = "arn:aws:ecs:us-east-1:123456789012:task-definition/ecsr-runner-0123456789abcdef:1"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/ecsr-runners/0f1e2d3c4b5a69788796a5b4c3d2e1f0"
ENV_FILE = "arn:aws:s3:::ecsr-jit-123456789012/jit/ecsr-aaaaaaaaaaaaaaaaaaaaaaaaaaa.env"
NO_CAPACITY = (
    "Capacity is unavailable at this time. Please try again later or in a different availability zone"
)
SETTINGS = Settings(
    name="ecsr",
    runner_table="ecsr-runners",
    class_sizes_param="/ecsr/class-sizes",
    cluster_arn=CLUSTER,
    subnet_ids=("subnet-0a", "subnet-0b"),
    security_group_ids=("sg-01",),
    assign_public_ip=True,
    github_repo="octo-org/octo-repo",
)


@pytest.fixture
def ecs() -> Iterator[tuple[EcsTaskLauncher, Stubber]]:
    client = boto3.Session(
        aws_access_key_id="stub", aws_secret_access_key="stub", region_name="us-east-1"
    ).client("ecs")
    with Stubber(client) as stubber:
        yield EcsTaskLauncher(client, SETTINGS), stubber
        stubber.assert_no_pending_responses()


def request(*, spot: bool, storage: int | None = None) -> TaskRequest:
    return TaskRequest(
        runner_name="ecsr-aaaaaaaaaaaaaaaaaaaaaaaaaaa",
        task_definition_arn=TASK_DEF,
        cpu=1024,
        memory=2048,
        spot=spot,
        environment_file_arn=ENV_FILE,
        tags={"ecsrunner:runner-name": "ecsr-aaaaaaaaaaaaaaaaaaaaaaaaaaa", "ecsrunner:job-id": "42"},
        client_token="t" * 64,
        ephemeral_storage_gib=storage,
    )


def expected_params(*, spot: bool, storage: int | None = None) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "cpu": "1024",
        "memory": "2048",
        "containerOverrides": [{"name": "runner", "environmentFiles": [{"value": ENV_FILE, "type": "s3"}]}],
    }
    if storage:
        overrides["ephemeralStorage"] = {"sizeInGiB": storage}
    params: dict[str, Any] = {
        "cluster": CLUSTER,
        "taskDefinition": TASK_DEF,
        "count": 1,
        "startedBy": "ecsr-aaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "clientToken": "t" * 64,
        "enableECSManagedTags": True,
        "tags": [
            {"key": "ecsrunner:job-id", "value": "42"},
            {"key": "ecsrunner:runner-name", "value": "ecsr-aaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        ],
        "overrides": overrides,
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-0a", "subnet-0b"],
                "securityGroups": ["sg-01"],
                "assignPublicIp": "ENABLED",
            }
        },
    }
    if spot:
        params["capacityProviderStrategy"] = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    else:
        params["launchType"] = "FARGATE"
    return params


def test_a_spot_request_uses_the_fargate_spot_capacity_provider_and_no_launch_type(
    ecs: tuple[EcsTaskLauncher, Stubber],
) -> None:
    launcher, stubber = ecs
    stubber.add_response(
        "run_task", {"tasks": [{"taskArn": TASK}], "failures": []}, expected_params(spot=True)
    )
    assert launcher.run_task(request(spot=True)) == TASK


def test_an_on_demand_request_with_ephemeral_storage(ecs: tuple[EcsTaskLauncher, Stubber]) -> None:
    launcher, stubber = ecs
    stubber.add_response(
        "run_task", {"tasks": [{"taskArn": TASK}], "failures": []}, expected_params(spot=False, storage=100)
    )
    assert launcher.run_task(request(spot=False, storage=100)) == TASK


def test_no_spot_capacity_in_failures_is_a_capacity_error(ecs: tuple[EcsTaskLauncher, Stubber]) -> None:
    launcher, stubber = ecs
    stubber.add_response("run_task", {"tasks": [], "failures": [{"arn": CLUSTER, "reason": NO_CAPACITY}]})
    with pytest.raises(LaunchError) as caught:
        launcher.run_task(request(spot=True))
    assert caught.value.capacity and caught.value.transient
    assert NO_CAPACITY in str(caught.value)


def test_other_failures_are_transient_but_not_capacity(ecs: tuple[EcsTaskLauncher, Stubber]) -> None:
    launcher, stubber = ecs
    stubber.add_response("run_task", {"tasks": [], "failures": [{"arn": TASK_DEF, "reason": "MISSING"}]})
    with pytest.raises(LaunchError) as caught:
        launcher.run_task(request(spot=False))
    assert caught.value.transient and not caught.value.capacity


def test_throttling_is_transient(ecs: tuple[EcsTaskLauncher, Stubber]) -> None:
    launcher, stubber = ecs
    stubber.add_client_error("run_task", "ThrottlingException", "Rate exceeded", 400)
    with pytest.raises(LaunchError) as caught:
        launcher.run_task(request(spot=True))
    assert caught.value.transient and not caught.value.capacity
    assert "ThrottlingException" in str(caught.value)


def test_an_invalid_parameter_is_permanent(ecs: tuple[EcsTaskLauncher, Stubber]) -> None:
    launcher, stubber = ecs
    stubber.add_client_error(
        "run_task", "InvalidParameterException", "Task definition does not support launch_type FARGATE.", 400
    )
    with pytest.raises(LaunchError) as caught:
        launcher.run_task(request(spot=False))
    assert not caught.value.transient and not caught.value.capacity


def test_stopping_a_task_that_is_gone_is_not_an_error(ecs: tuple[EcsTaskLauncher, Stubber]) -> None:
    launcher, stubber = ecs
    stubber.add_client_error(
        "stop_task", "InvalidParameterException", "The referenced task was not found.", 400
    )
    launcher.stop_task(TASK, "x" * 300)


def test_stop_task_reason_is_cut_to_what_ecs_accepts(ecs: tuple[EcsTaskLauncher, Stubber]) -> None:
    launcher, stubber = ecs
    stubber.add_response(
        "stop_task", {"task": {"taskArn": TASK}}, {"cluster": CLUSTER, "task": TASK, "reason": "r" * 255}
    )
    launcher.stop_task(TASK, "r" * 1000)


def test_find_task_looks_at_running_then_stopped_tasks_started_by_the_runner(
    ecs: tuple[EcsTaskLauncher, Stubber],
) -> None:
    launcher, stubber = ecs
    name = "ecsr-aaaaaaaaaaaaaaaaaaaaaaaaaaa"
    stubber.add_response(
        "list_tasks", {"taskArns": []}, {"cluster": CLUSTER, "startedBy": name, "desiredStatus": "RUNNING"}
    )
    stubber.add_response(
        "list_tasks",
        {"taskArns": [TASK]},
        {"cluster": CLUSTER, "startedBy": name, "desiredStatus": "STOPPED"},
    )
    stubber.add_response(
        "describe_tasks",
        {
            "tasks": [{"taskArn": TASK, "lastStatus": "STOPPED", "startedBy": name, "tags": []}],
            "failures": [],
        },
        {"cluster": CLUSTER, "tasks": [TASK], "include": ["TAGS"]},
    )
    found = launcher.find_task(name)
    assert found is not None and found.task_arn == TASK and found.last_status == "STOPPED"
