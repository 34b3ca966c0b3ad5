"""queued step 5: the RunTask request (captured at the botocore boundary) and the task moto started."""

from __future__ import annotations

from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.janitor import run_janitor
from ecsrunner_core.usecases.launch import client_token

from tests.lifecycle.support import Fault, MakeWorld, World, client_error


def test_an_on_demand_runner_is_one_fargate_task_in_the_configured_network(world: World) -> None:
    record = world.queue_runner(["self-hosted", "linux", "class:large"])
    (run,) = world.calls.of("ecs.RunTask")
    params = run.params
    assert params["cluster"] == world.settings.cluster_arn
    assert params["launchType"] == "FARGATE" and "capacityProviderStrategy" not in params
    assert params["count"] == 1
    assert params["networkConfiguration"] == {
        "awsvpcConfiguration": {
            "subnets": list(world.settings.subnet_ids),
            "securityGroups": list(world.settings.security_group_ids),
            "assignPublicIp": "DISABLED",
        }
    }
    assert params["overrides"]["cpu"] == "4096" and params["overrides"]["memory"] == "16384"
    assert params["startedBy"] == record.runner_name
    assert params["taskDefinition"] != world.settings.base_task_definition_arn  # the per-image copy
    assert params["clientToken"] == client_token(record.runner_name, 0, "on-demand")
    assert run.response is not None
    assert record.task_arn == run.response["tasks"][0]["taskArn"]


def test_the_task_carries_the_runner_tags(world: World) -> None:
    record = world.queue_runner()
    task = world.task(record.task_arn or "")
    tags = {t["key"]: t["value"] for t in task["tags"]}
    assert tags == {
        "ecsrunner:deployment": world.settings.name,
        "ecsrunner:runner-name": record.runner_name,
        "ecsrunner:job-id": str(record.job_id),
        "ecsrunner:repository": "octo-org/octo-repo",
        "ecsrunner:run-url": record.run_url,
    }
    assert task["startedBy"] == record.runner_name
    assert task["launchType"] == "FARGATE"
    assert task["overrides"]["cpu"] == "1024" and task["overrides"]["memory"] == "4096"  # class medium
    assert world.record(record.runner_name).task_arn == task["taskArn"]


def test_a_public_ip_when_the_settings_ask_for_one(make_world: MakeWorld) -> None:
    world = make_world(assign_public_ip=True)
    world.queue_runner()
    (run,) = world.calls.of("ecs.RunTask")
    assert run.params["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "ENABLED"


def test_the_runner_task_definition_runs_the_derived_image(world: World) -> None:
    record = world.queue_runner()
    (run,) = world.calls.of("ecs.RunTask")
    definition = world.client("ecs").describe_task_definition(taskDefinition=run.params["taskDefinition"])
    (container,) = definition["taskDefinition"]["containerDefinitions"]
    assert container["image"] == f"{world.settings.ecr_repository_url}:{record.image_tag}"
    assert definition["taskDefinition"]["runtimePlatform"]["cpuArchitecture"] == "X86_64"


def test_the_client_token_is_stable_per_attempt_and_changes_with_the_next(world: World) -> None:
    world.calls.faults.append(Fault("ecs.RunTask", client_error("ThrottlingException", "Rate exceeded")))
    record = world.queue_runner()
    first = world.calls.of("ecs.RunTask")[0].params["clientToken"]
    assert first == client_token(record.runner_name, 0, "on-demand")
    assert world.record(record.runner_name).attempts == 1
    world.clock.advance(31)
    run_janitor(world.deps())
    second = world.calls.of("ecs.RunTask")[1].params["clientToken"]
    assert second == client_token(record.runner_name, 1, "on-demand") != first
    assert world.record(record.runner_name).status is RunnerStatus.STARTING
    assert world.record(record.runner_name).task_arn
