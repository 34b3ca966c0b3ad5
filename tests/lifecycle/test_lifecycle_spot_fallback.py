"""Spot classes ask for FARGATE_SPOT and fall back to on-demand FARGATE on capacity errors.

moto cannot place capacityProviderStrategy tasks, so the Spot RunTask is answered at the botocore
boundary with the failure AWS returns when Spot has no capacity; the on-demand fallback runs on moto.
"""

from __future__ import annotations

from typing import Any

from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.launch import client_token

from tests.lifecycle.support import Fault, World, aws_response, client_error

NO_CAPACITY = (
    "Capacity is unavailable at this time. Please try again later or in a different availability zone"
)
SPOT_LABELS = ("self-hosted", "linux", "class:spot")


def is_spot(params: dict[str, Any]) -> bool:
    return "capacityProviderStrategy" in params


def no_spot_capacity(world: World) -> None:
    failure = {"arn": world.settings.cluster_arn, "reason": NO_CAPACITY}
    world.calls.faults.append(
        Fault("ecs.RunTask", lambda params: aws_response({"tasks": [], "failures": [failure]}), when=is_spot)
    )


def test_without_spot_capacity_the_runner_starts_on_demand(world: World) -> None:
    no_spot_capacity(world)
    record = world.queue_runner(SPOT_LABELS)
    spot, on_demand = world.calls.of("ecs.RunTask")
    assert spot.params["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    assert "launchType" not in spot.params
    assert on_demand.params["launchType"] == "FARGATE" and "capacityProviderStrategy" not in on_demand.params
    assert spot.params["clientToken"] == client_token(record.runner_name, 0, "spot")
    assert on_demand.params["clientToken"] == client_token(record.runner_name, 0, "on-demand")
    assert spot.params["clientToken"] != on_demand.params["clientToken"]
    # Everything else is the same request.
    same = {k: v for k, v in spot.params.items() if k not in ("capacityProviderStrategy", "clientToken")}
    assert same == {k: v for k, v in on_demand.params.items() if k not in ("launchType", "clientToken")}
    assert record.status is RunnerStatus.STARTING and record.attempts == 0
    assert world.task(record.task_arn or "")["launchType"] == "FARGATE"
    assert world.metrics.total("SpotFallbacks") == 1


def test_throttling_on_spot_is_retried_later_not_moved_to_on_demand(world: World) -> None:
    world.calls.faults.append(Fault("ecs.RunTask", client_error("ThrottlingException", "Rate exceeded")))
    record = world.queue_runner(SPOT_LABELS)
    assert [c.params.get("launchType") for c in world.calls.of("ecs.RunTask")] == [None]
    assert record.task_arn is None and record.attempts == 1
    assert record.last_error and "ThrottlingException" in record.last_error
    assert world.metrics.total("SpotFallbacks") == 0


def test_an_on_demand_class_never_asks_for_spot(world: World) -> None:
    world.queue_runner(["self-hosted", "class:small"])
    assert not any(is_spot(c.params) for c in world.calls.of("ecs.RunTask"))
