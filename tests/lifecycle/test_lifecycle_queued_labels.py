"""queued step 1: labels decide whether a job is ours, and refused jobs fail visibly without launching."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ecsrunner_core.domain.status import RunnerStatus

from tests.lifecycle.support import MakeWorld, World, fixture_json, job_payload


def assert_nothing_launched(world: World) -> None:
    assert "ecs.RunTask" not in world.calls.names()
    assert world.github.calls == []
    assert world.tasks() == []
    assert world.counter() == 0


def test_labels_of_another_self_hosted_fleet_are_ignored_and_nothing_written(world: World) -> None:
    payload = fixture_json("github/webhooks/workflow_job.queued.with-deployment.json")
    payload["repository"].update(full_name="octo-org/octo-repo")
    assert payload["workflow_job"]["labels"] == ["self-hosted", "k8s"]  # the real sample's labels
    response = world.webhook("workflow_job", payload)
    assert response["statusCode"] == 202
    assert json.loads(response["body"])["outcome"] == "ignored"
    assert world.items() == []
    assert [c for c in world.calls.mutations() if c.startswith("dynamodb")] == []
    assert_nothing_launched(world)


def test_a_github_hosted_job_is_ignored(world: World) -> None:
    payload = fixture_json("github/webhooks/workflow_job.queued.json")
    payload["repository"].update(full_name="octo-org/octo-repo")
    assert payload["workflow_job"]["labels"] == ["ubuntu-latest"]
    response = world.webhook("workflow_job", payload)
    assert response["statusCode"] == 202
    assert world.items() == []
    assert_nothing_launched(world)


def refused(world: World, labels: list[str]) -> tuple[dict[str, Any], Any]:
    job_id = world.next_job_id()
    response = world.webhook("workflow_job", job_payload("queued", job_id=job_id, labels=labels))
    return response, world.record_for_job(job_id)


@pytest.mark.parametrize(
    ("labels", "named"),
    [
        (["self-hosted", "linux", "class:huge"], "class:huge"),
        (["self-hosted", "image:Not A Valid Ref!"], "image:Not A Valid Ref!"),
        (["self-hosted", "class:small", "class:large"], "class:small"),
        (["self-hosted", "class:"], "class:"),
        (["self-hosted", "image:alpine:3.20", "image:debian:12"], "image:alpine:3.20"),
    ],
    ids=["unknown-class", "invalid-image", "two-classes", "empty-class", "two-images"],
)
def test_a_job_for_this_fleet_that_cannot_be_served_is_failed_naming_the_label(
    world: World, labels: list[str], named: str
) -> None:
    response, record = refused(world, labels)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["outcome"] == "refused"
    assert record is not None and record.status is RunnerStatus.FAILED
    assert named in record.status_reason
    assert record.task_arn is None and record.github_runner_id is None
    assert list(record.status_path) == [RunnerStatus.FAILED]
    assert_nothing_launched(world)
    assert world.metrics.total("RunnersFailed", reason="labels") == 1


def test_an_architecture_label_that_contradicts_the_class_is_refused(world: World) -> None:
    _, record = refused(world, ["self-hosted", "arm64", "class:small"])
    assert record is not None and record.status is RunnerStatus.FAILED
    assert "'arm64'" in record.status_reason and "'small'" in record.status_reason
    assert_nothing_launched(world)


def test_a_refused_job_redelivered_stays_one_failed_record(world: World) -> None:
    job_id = world.next_job_id()
    payload = job_payload("queued", job_id=job_id, labels=["self-hosted", "class:huge"])
    world.webhook("workflow_job", payload, delivery="same-delivery")
    again = world.webhook("workflow_job", payload, delivery="same-delivery")
    assert json.loads(again["body"])["outcome"] == "duplicate"
    assert len(world.runner_items()) == 1 and len(world.job_guards()) == 1


def test_a_base_image_outside_allowed_base_images_is_refused(make_world: MakeWorld) -> None:
    world = make_world(allowed_base_images=("ubuntu:*", "public.ecr.aws/docker/library/*"))
    _, record = refused(world, ["self-hosted", "image:alpine:3.20"])
    assert record is not None and record.status is RunnerStatus.FAILED
    assert "image:alpine:3.20" in record.status_reason and "allowed_base_images" in record.status_reason
    assert_nothing_launched(world)
    assert "codebuild.StartBuild" not in world.calls.names()


def test_an_allowed_base_image_is_accepted(make_world: MakeWorld) -> None:
    world = make_world(allowed_base_images=("ubuntu:*",))
    world.push_image("ubuntu:24.04")
    record = world.queue_runner(["self-hosted", "image:ubuntu:24.04"])
    assert record.status is RunnerStatus.STARTING and record.task_arn
    assert record.image_tag == world.image_tag("ubuntu:24.04")


def test_extra_labels_make_a_job_ours(make_world: MakeWorld) -> None:
    world = make_world(extra_labels=frozenset({"gpu-less"}))
    record = world.queue_runner(["self-hosted", "gpu-less", "class:small"])
    assert record.task_arn and record.class_name == "small"
