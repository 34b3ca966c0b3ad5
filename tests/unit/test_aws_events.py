"""ECS task state and CodeBuild build state events, from AWS's own samples and from anything else."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from ecsrunner_core.aws_events import (
    CODEBUILD_BUILD_STATE_CHANGE,
    ECS_TASK_STATE_CHANGE,
    BuildStateChange,
    ContainerState,
    MalformedEvent,
    TaskStateChange,
)
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.domain.support import EXAMPLES

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "aws" / "events"


def load(name: str) -> dict[str, Any]:
    # utf-8-sig: the aws-lambda-dotnet sample starts with a byte order mark.
    data: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8-sig"))
    return data


def load_spot_snippet() -> dict[str, Any]:
    """The docs' Fargate Spot snippet, with its "..." placeholder line (and the comma before it) removed."""
    text = (EVENTS / "ecs-task-state-change.fargate-spot-termination-notice.snippet.docs.txt").read_text()
    data: dict[str, Any] = json.loads(re.sub(r",\s*\.\.\.\s*", "", text))
    return data


ECS_RUNNING = load("ecs-task-state-change.running.docs.json")
CODEBUILD_SUCCEEDED = load("codebuild-build-state-change.succeeded.docs.json")


# --- ECS ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["ecs-task-state-change.running.docs.json", "ecs-task-state-change.running.aws-lambda-dotnet.json"],
)
def test_running_task(name: str) -> None:
    event = load(name)
    assert event["detail-type"] == ECS_TASK_STATE_CHANGE
    change = TaskStateChange.from_event(event)
    assert change == TaskStateChange(
        cluster_arn="arn:aws:ecs:us-west-2:111122223333:cluster/FargateCluster",
        task_arn="arn:aws:ecs:us-west-2:111122223333:task/FargateCluster/c13b4cb40f1f4fe4a2971f76ae5a47ad",
        last_status="RUNNING",
        desired_status="RUNNING",
        started_by=None,
        stop_code=None,
        stopped_reason=None,
        containers=(ContainerState(name="FargateApp", last_status="RUNNING", exit_code=None, reason=None),),
        version=4,
    )
    assert change.exit_code is None


def test_running_task_with_a_stopped_container() -> None:
    change = TaskStateChange.from_event(
        load("ecs-task-state-change.running-container-stopped.docs-2019.json")
    )
    assert change.last_status == "RUNNING"
    assert change.started_by == "ecs-svc/9223370556150183303"
    assert change.containers == (ContainerState("xray", "STOPPED", 0, None),)
    assert change.exit_code == 0
    assert change.failure_reason() == "task stopped (no stop code); exit code 0"


def test_fargate_spot_termination_notice() -> None:
    change = TaskStateChange.from_event(load_spot_snippet())
    assert change.desired_status == "STOPPED"
    assert change.last_status == "RUNNING"
    assert change.stop_code == "TerminationNotice"
    assert change.stopped_reason == "Your Spot Task was interrupted."
    assert change.containers == ()
    assert change.failure_reason() == "task stopped (TerminationNotice); Your Spot Task was interrupted."


def stopped_task(**detail_changes: Any) -> dict[str, Any]:
    """The docs' running event turned into a stopped one (no complete AWS sample exists)."""
    event = copy.deepcopy(ECS_RUNNING)
    event["detail"].update(
        lastStatus="STOPPED",
        desiredStatus="STOPPED",
        startedBy="demo-abcdefghijklmnopqrstuvwxyz2",
        stopCode="EssentialContainerExited",
        stoppedReason="Essential container in task exited",
    )
    event["detail"]["containers"][0].update(
        lastStatus="STOPPED", exitCode=137, reason="OutOfMemoryError: killed"
    )
    event["detail"].update(detail_changes)
    return event


def test_failure_reason_has_stop_code_reason_container_reason_and_exit_code() -> None:
    change = TaskStateChange.from_event(stopped_task())
    assert change.started_by == "demo-abcdefghijklmnopqrstuvwxyz2"
    assert change.exit_code == 137
    assert change.failure_reason() == (
        "task stopped (EssentialContainerExited); Essential container in task exited; "
        "FargateApp: OutOfMemoryError: killed; exit code 137"
    )


def test_failure_reason_without_details() -> None:
    event = stopped_task(stopCode=None, stoppedReason=None, containers=[])
    assert TaskStateChange.from_event(event).failure_reason() == "task stopped (no stop code)"


def test_exit_code_is_the_first_container_that_has_one() -> None:
    event = stopped_task(
        containers=[
            {"name": "init", "lastStatus": "STOPPED"},
            {"name": "runner", "exitCode": 3},
            {"exitCode": 4},
        ]
    )
    change = TaskStateChange.from_event(event)
    assert change.exit_code == 3
    assert change.containers[2].name == ""


def test_optional_strings_may_be_empty() -> None:
    change = TaskStateChange.from_event(stopped_task(stopCode="", stoppedReason="", startedBy=""))
    assert (change.stop_code, change.stopped_reason, change.started_by) == (None, None, None)


def test_wrongly_typed_container_fields_are_dropped() -> None:
    event = stopped_task(
        containers=[{"name": 5, "lastStatus": [], "exitCode": True, "reason": {}}, "junk", 7]
    )
    change = TaskStateChange.from_event(event)
    assert change.containers == (ContainerState("", None, None, None),)
    assert TaskStateChange.from_event(stopped_task(version=True)).version is None


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        "event",
        {},
        {"detail": None},
        {"detail": []},
        {"detail": "x"},
        stopped_task(clusterArn=None),
        stopped_task(taskArn=""),
        stopped_task(lastStatus=5),
        stopped_task(stopCode=5),
        stopped_task(stoppedReason=["x"]),
        stopped_task(containers=5),
        stopped_task(containers="FargateApp"),
        stopped_task(containers={"name": "x"}),
        CODEBUILD_SUCCEEDED,
    ],
)
def test_malformed_task_events(event: Any) -> None:
    with pytest.raises(MalformedEvent):
        TaskStateChange.from_event(event)


# --- CodeBuild ----------------------------------------------------------------------------------

LOG_URL = (
    "https://console.aws.amazon.com/cloudwatch/home?region=us-west-2#logEvent:"
    "group=/aws/codebuild/my-sample-project;stream=8745a7a9-c340-456a-9166-edf953571bEX"
)
BUILD_ID = (
    "arn:aws:codebuild:us-west-2:123456789012:build/my-sample-project:8745a7a9-c340-456a-9166-edf953571bEX"
)


def test_build_succeeded_docs() -> None:
    assert CODEBUILD_SUCCEEDED["detail-type"] == CODEBUILD_BUILD_STATE_CHANGE
    change = BuildStateChange.from_event(CODEBUILD_SUCCEEDED)
    assert change == BuildStateChange(
        build_id=BUILD_ID,
        project_name="my-sample-project",
        status="SUCCEEDED",
        environment={},
        log_url=LOG_URL,
    )


def test_build_succeeded_with_environment_variables() -> None:
    change = BuildStateChange.from_event(load("codebuild-build-state-change.succeeded.aws-lambda-go.json"))
    assert change.environment == {"TEST": "TEST"}
    assert (change.build_id, change.status, change.log_url) == (BUILD_ID, "SUCCEEDED", LOG_URL)


def build_event(**changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(CODEBUILD_SUCCEEDED)
    event["detail"].update(changes)
    return event


def test_failed_build_with_our_overrides() -> None:
    """The docs sample with the status and environment a failed image build would have."""
    event = build_event(**{"build-status": "FAILED"})
    event["detail"]["additional-information"]["environment"]["environment-variables"] = [
        {"name": "BASE_IMAGE", "type": "PLAINTEXT", "value": "docker.io/library/ubuntu:22.04"},
        {"name": "IMAGE_TAG", "type": "PLAINTEXT", "value": "ubuntu-22.04-x86_64-0123"},
        {"name": "EMPTY", "type": "PLAINTEXT", "value": None},
        {"name": 5, "value": "ignored"},
        "junk",
    ]
    change = BuildStateChange.from_event(event)
    assert change.status == "FAILED"
    assert change.environment == {
        "BASE_IMAGE": "docker.io/library/ubuntu:22.04",
        "IMAGE_TAG": "ubuntu-22.04-x86_64-0123",
        "EMPTY": "",
    }


def test_build_without_additional_information() -> None:
    event = build_event()
    del event["detail"]["additional-information"]
    change = BuildStateChange.from_event(event)
    assert (change.environment, change.log_url) == ({}, None)


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        {},
        {"detail": 1},
        load("codebuild-build-phase-change.docs.json"),  # a phase change has no build-status
        build_event(**{"build-id": None}),
        build_event(**{"project-name": 3}),
        build_event(**{"build-status": ""}),
        ECS_RUNNING,
    ],
)
def test_malformed_build_events(event: Any) -> None:
    with pytest.raises(MalformedEvent):
        BuildStateChange.from_event(event)


def test_malformed_environment_variables() -> None:
    event = build_event()
    event["detail"]["additional-information"]["environment"]["environment-variables"] = 5
    with pytest.raises(MalformedEvent, match="environment-variables"):
        BuildStateChange.from_event(event)


# --- properties ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=15,
)
TASK_KEYS = [
    "clusterArn",
    "taskArn",
    "lastStatus",
    "desiredStatus",
    "startedBy",
    "stopCode",
    "stoppedReason",
    "containers",
    "version",
]
BUILD_KEYS = ["build-id", "project-name", "build-status", "additional-information"]


def check_task(event: Any) -> None:
    try:
        change = TaskStateChange.from_event(event)
    except MalformedEvent as exc:
        assert str(exc)
        return
    assert all(isinstance(v, str) and v for v in (change.cluster_arn, change.task_arn, change.last_status))
    for value in (change.desired_status, change.started_by, change.stop_code, change.stopped_reason):
        assert value is None or (isinstance(value, str) and value)
    for container in change.containers:
        assert isinstance(container.name, str)
        assert container.exit_code is None or type(container.exit_code) is int
    assert change.version is None or type(change.version) is int
    assert change.failure_reason().startswith("task stopped (")


def check_build(event: Any) -> None:
    try:
        change = BuildStateChange.from_event(event)
    except MalformedEvent as exc:
        assert str(exc)
        return
    assert all(isinstance(v, str) and v for v in (change.build_id, change.project_name, change.status))
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in change.environment.items())
    assert change.log_url is None or isinstance(change.log_url, str)


@EXAMPLES
@given(json_values | st.dictionaries(st.sampled_from(["detail", "source", "detail-type"]), json_values))
def test_arbitrary_events_give_a_change_or_malformed_event(event: Any) -> None:
    check_task(event)
    check_build(event)


@EXAMPLES
@given(st.dictionaries(st.sampled_from(TASK_KEYS), json_values, min_size=1))
def test_corrupted_task_events(changes: dict[str, Any]) -> None:
    event = stopped_task()
    event["detail"].update(changes)
    check_task(event)


@EXAMPLES
@given(
    st.dictionaries(st.sampled_from(BUILD_KEYS), json_values),
    st.dictionaries(st.sampled_from(["environment", "logs"]), json_values),
    json_values,
)
def test_corrupted_build_events(changes: dict[str, Any], info: dict[str, Any], variables: Any) -> None:
    event = build_event()
    event["detail"]["additional-information"]["environment"]["environment-variables"] = variables
    event["detail"]["additional-information"].update(info)
    event["detail"].update(changes)
    check_build(event)
