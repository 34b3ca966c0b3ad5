"""CodeBuild as the demo plays it: the build's tag found, the image pushed, the event sent."""

from __future__ import annotations

import json
from typing import Any

import boto3
from ecsrunner_core.aws_events import BuildStateChange
from ecsrunner_sandbox.build_runner import ImageBuilds, console_time
from ecsrunner_sandbox.event_router import EventBus
from ecsrunner_sandbox.lambda_host import Invocation

PROJECT = "ecsr-image-build"
TAG = "ubuntu-22.04-x86_64-0123456789abcdef0123456789abcdef01234567"
BASE = "docker.io/library/ubuntu:22.04"


def test_a_started_build_is_played_to_success(aws: boto3.Session) -> None:
    ecr, codebuild, events = aws.client("ecr"), aws.client("codebuild"), aws.client("events")
    repository_url = ecr.create_repository(repositoryName="ecsr-runner")["repository"]["repositoryUri"]
    role = aws.client("iam").create_role(RoleName="build", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    codebuild.create_project(
        name=PROJECT,
        source={"type": "S3", "location": "bucket/runner-context.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            "privilegedMode": True,
            "environmentVariables": [
                {"name": "REPOSITORY_URI", "value": repository_url, "type": "PLAINTEXT"}
            ],
        },
        serviceRole=role,
    )
    pattern = {"source": ["aws.codebuild"], "detail": {"project-name": [PROJECT]}}
    events.put_rule(Name="builds", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="builds", Targets=[{"Id": "cp", "Arn": "arn:aws:lambda:us-east-1:1:function:cp"}])
    received: list[dict[str, Any]] = []

    def control_plane(function: str, event: dict[str, Any]) -> Invocation:
        received.append(event)
        return Invocation("cp", "r", {"outcome": "image_ready"})

    bus = EventBus(
        events_client=events,
        lambda_client=aws.client("lambda"),
        sqs_client=aws.client("sqs"),
        invoke=control_plane,
        account="123456789012",
        region="us-east-1",
    )
    bus.load()
    build_id = codebuild.start_build(projectName=PROJECT)["build"]["id"]
    pointers = {build_id: (TAG, BASE)}
    builds = ImageBuilds(
        codebuild_client=codebuild,
        ecr_client=ecr,
        bus=bus,
        project_name=PROJECT,
        tag_for_build=pointers.get,
        log=lambda kind, text: None,
    )

    assert builds.tick()  # seen: the control plane's pointer names the tag
    assert builds.pending() and received == []
    assert builds.tick()  # finished: pushed, event sent
    assert not builds.pending() and not builds.tick()

    image = ecr.describe_images(repositoryName="ecsr-runner", imageIds=[{"imageTag": TAG}])["imageDetails"][0]
    assert image["imageDigest"].startswith("sha256:")
    (event,) = received
    change = BuildStateChange.from_event(event)
    assert change.status == "SUCCEEDED" and change.project_name == PROJECT
    assert change.build_id == f"arn:aws:codebuild:us-east-1:123456789012:build/{build_id}"
    assert change.environment["IMAGE_TAG"] == TAG and change.environment["BASE_IMAGE"] == BASE
    assert change.environment["REPOSITORY_URI"] == repository_url
    assert change.log_url and build_id.split(":", 1)[1] in change.log_url
    assert event["detail"]["additional-information"]["environment"]["privileged-mode"] is True


def test_a_build_without_a_pointer_yet_waits() -> None:
    class Builds:
        def list_builds_for_project(self, **_: Any) -> dict[str, Any]:
            return {"ids": ["p:1"]}

    builds = ImageBuilds(
        codebuild_client=Builds(),
        ecr_client=None,
        bus=None,  # type: ignore[arg-type]
        project_name="p",
        tag_for_build=lambda build_id: None,
        log=lambda kind, text: None,
    )
    assert not builds.tick() and builds.builds == {}


def testconsole_time_is_codebuilds_format() -> None:
    from datetime import UTC, datetime

    assert console_time(datetime(2017, 9, 1, 16, 12, 29, tzinfo=UTC)) == "Sep 1, 2017 4:12:29 PM"
    assert console_time(datetime(2017, 9, 1, 0, 5, 0, tzinfo=UTC)) == "Sep 1, 2017 12:05:00 AM"
