"""ECS Task State Change events for our cluster move the runner; stale, duplicate and reordered
events are no-ops; terminal states absorb."""

from __future__ import annotations

import pytest
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.ports import TaskRequest
from ecsrunner_core.usecases.launch import task_tags

from tests.lifecycle.support import World

PULL_ERROR = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/ecsr-runner:missing: not found"
)


def test_running_moves_a_starting_runner_to_waiting_for_job(world: World) -> None:
    record = world.queue_runner()
    world.clock.advance(42)
    outcome = world.task_running(record)
    assert outcome == {"outcome": "waiting_for_job", "detail": record.task_arn, "runner": record.runner_name}
    after = world.record(record.runner_name)
    assert after.status is RunnerStatus.WAITING_FOR_JOB and after.status_reason == "task running"
    assert after.status_since == world.clock.now()
    assert ("QueueToStartLatency", 42.0) in world.metrics.timings


def test_a_duplicate_running_event_is_a_no_op(world: World) -> None:
    record = world.queue_runner()
    world.task_running(record)
    before = world.record(record.runner_name)
    world.clock.advance(5)
    assert world.task_running(record)["outcome"] == "noop"
    assert world.record(record.runner_name) == before


def test_stopped_after_a_job_is_offline(world: World) -> None:
    record = world.queue_runner()
    world.task_running(record)
    world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)
    outcome = world.task_stopped(record, exit_code=0)
    assert outcome["outcome"] == "offline"
    after = world.record(record.runner_name)
    assert after.status is RunnerStatus.OFFLINE
    assert after.status_reason == f"task stopped after job {record.job_id} (EssentialContainerExited)"


def test_stopped_after_a_job_that_failed_is_still_offline(world: World) -> None:
    """A failing job is not a failing runner: the runner did its one job."""
    record = world.queue_runner()
    world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)
    world.task_stopped(record, exit_code=1)
    assert world.record(record.runner_name).status is RunnerStatus.OFFLINE


@pytest.mark.parametrize(
    ("stop_code", "stopped_reason", "exit_code", "expected"),
    [
        ("TaskFailedToStart", PULL_ERROR, None, ["task stopped (TaskFailedToStart)", PULL_ERROR]),
        ("SpotInterruption", "Your Spot Task was interrupted.", None, ["(SpotInterruption)", "interrupted"]),
        ("EssentialContainerExited", "Essential container in task exited", 2, ["exit code 2"]),
        ("UserInitiated", "Task stopped by user", 0, ["(UserInitiated)", "exit code 0"]),
        (
            "TaskFailedToStart",
            "Timeout waiting for network interface provisioning to complete.",
            None,
            ["(TaskFailedToStart)", "network interface"],
        ),
    ],
    ids=["cannot-pull", "spot-interruption", "non-zero-exit", "stopped-by-someone", "eni-timeout"],
)
def test_stopped_without_a_job_is_failed_with_the_details(
    world: World, stop_code: str, stopped_reason: str, exit_code: int | None, expected: list[str]
) -> None:
    record = world.queue_runner()
    world.task_running(record)
    outcome = world.task_stopped(
        record, stop_code=stop_code, stopped_reason=stopped_reason, exit_code=exit_code
    )
    assert outcome["outcome"] == "failed"
    after = world.record(record.runner_name)
    assert after.status is RunnerStatus.FAILED
    for text in expected:
        assert text in after.status_reason
    assert world.github.state.runners == {}  # the unused registration is removed
    assert world.jit_object(record.runner_name) is None
    assert world.metrics.total("RunnersFailed", reason="task") == 1
    assert world.assert_counter_matches_slots() == 0


def test_stopped_before_in_progress_with_a_clean_exit_is_offline_and_the_late_job_only_annotates(
    world: World,
) -> None:
    record = world.queue_runner()
    world.task_running(record)
    world.task_stopped(record, exit_code=0, stop_code="EssentialContainerExited")
    stopped = world.record(record.runner_name)
    assert stopped.status is RunnerStatus.OFFLINE
    assert stopped.status_reason == "runner exited cleanly (exit code 0) without a job"

    response = world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)
    assert response["statusCode"] == 200
    late = world.record(record.runner_name)
    assert late.status is RunnerStatus.OFFLINE and late.history == stopped.history
    assert late.run_job_id == record.job_id


def test_running_after_stopped_is_a_no_op(world: World) -> None:
    record = world.queue_runner()
    world.task_stopped(record, stop_code="TaskFailedToStart", exit_code=None)
    before = world.record(record.runner_name)
    assert world.task_running(record)["outcome"] == "noop"
    assert world.record(record.runner_name) == before


def test_a_second_stopped_event_changes_nothing(world: World) -> None:
    record = world.queue_runner()
    world.task_stopped(record, exit_code=0)
    before = world.record(record.runner_name)
    assert world.task_stopped(record, exit_code=1, stop_code="TaskFailedToStart")["outcome"] == "noop"
    assert world.record(record.runner_name) == before


def test_events_of_another_cluster_are_ignored(world: World) -> None:
    record = world.queue_runner()
    other = world.settings.cluster_arn.replace("ecsr-runners", "someone-elses")
    mark = world.calls.mark()
    outcome = world.ecs_event(
        record.task_arn or "", "RUNNING", started_by=record.runner_name, cluster_arn=other
    )
    assert outcome["outcome"] == "ignored"
    assert world.calls.since(mark) == []
    assert world.record(record.runner_name) == record


def test_a_task_that_is_not_the_runners_task_is_stopped(world: World) -> None:
    record = world.queue_runner()
    duplicate = world.services.launcher.run_task(
        TaskRequest(
            runner_name=record.runner_name,
            task_definition_arn=world.calls.of("ecs.RunTask")[0].params["taskDefinition"],
            cpu=1024,
            memory=4096,
            spot=False,
            environment_file_arn=f"arn:aws:s3:::{world.settings.jit_bucket}/jit/{record.runner_name}.env",
            tags=task_tags(world.deps(), record),
            client_token="duplicate",
        )
    )
    assert duplicate != record.task_arn
    outcome = world.ecs_event(duplicate, "RUNNING", started_by=record.runner_name)
    assert outcome["outcome"] == "stopped_duplicate"
    assert world.task(duplicate)["desiredStatus"] == "STOPPED"
    assert world.task(record.task_arn or "")["desiredStatus"] == "RUNNING"
    assert world.record(record.runner_name) == record
    # Its STOPPED event later does not touch the runner either.
    assert world.ecs_event(duplicate, "STOPPED", started_by=record.runner_name)["outcome"] == "ignored"
    assert world.record(record.runner_name) == record


def test_an_event_without_started_by_is_matched_by_task_arn(world: World) -> None:
    record = world.queue_runner()
    outcome = world.ecs_event(record.task_arn or "", "RUNNING", started_by=None)
    assert outcome["outcome"] == "waiting_for_job"
    assert world.record(record.runner_name).status is RunnerStatus.WAITING_FOR_JOB


def test_a_task_nobody_knows_is_ignored(world: World) -> None:
    world.queue_runner()
    arn = world.settings.cluster_arn.replace(":cluster/", ":task/") + "/0123456789abcdef0123456789abcdef"
    mark = world.calls.mark()
    assert world.ecs_event(arn, "RUNNING", started_by="ecs-svc/9223370556150183303")["outcome"] == "ignored"
    assert world.calls.mutations(mark) == []


def test_a_pending_event_only_records_the_task(world: World) -> None:
    record = world.queue_runner()
    outcome = world.ecs_event(record.task_arn or "", "PROVISIONING", started_by=record.runner_name)
    assert outcome["outcome"] == "noop"
    assert world.record(record.runner_name).status is RunnerStatus.STARTING
