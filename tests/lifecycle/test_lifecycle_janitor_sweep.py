"""The janitor: TTL and per-state timeouts (stop the task, deregister, FAILED with the reason),
orphan tasks and orphan GitHub registrations, and the retention of terminal records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from ecsrunner_core.domain.names import new_runner_name
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.ports import TaskRequest
from ecsrunner_core.usecases.janitor import run_janitor
from ecsrunner_sandbox.github_state import repo_scope

from tests.lifecycle.support import REPO, Fault, MakeWorld, World, client_error, job_payload

OTHER_FLEET_RUNNER = "other-fleet-aaaaaaaaaaaaaaaaaaaaaaaaaaa"


def expires_at(world: World, runner_name: str) -> int | None:
    item = next(i for i in world.runner_items() if i["runner_name"] == runner_name)
    return int(item["expires_at"]) if "expires_at" in item else None


def assert_failed_and_cleaned(world: World, runner_name: str, reason: str) -> None:
    record = world.record(runner_name)
    assert record.status is RunnerStatus.FAILED and record.status_reason == reason
    assert record.task_arn and world.task(record.task_arn)["desiredStatus"] == "STOPPED"
    (stop,) = [c for c in world.calls.of("ecs.StopTask") if c.params["task"] == record.task_arn]
    assert stop.params["reason"] == reason[:255]
    assert record.github_runner_id not in world.github.state.runners
    assert world.jit_object(runner_name) is None
    retention = timedelta(seconds=world.settings.record_retention_seconds)
    assert expires_at(world, runner_name) == int((world.clock.now() + retention).timestamp())
    assert not record.holds_slot


def test_a_task_that_never_reaches_running_fails_after_the_starting_timeout(world: World) -> None:
    record = world.queue_runner()
    world.clock.advance(world.settings.starting_timeout_seconds)
    assert run_janitor(world.deps()).timed_out == 0
    assert world.record(record.runner_name).status is RunnerStatus.STARTING
    world.clock.advance(1)
    report = run_janitor(world.deps())
    assert report.timed_out == 1
    assert_failed_and_cleaned(
        world,
        record.runner_name,
        "task not RUNNING within the STARTING timeout of 900s (counted from its RunTask)",
    )
    assert world.assert_counter_matches_slots() == 0
    assert world.metrics.total("RunnersFailed", reason="timeout") == 1
    assert world.metrics.total("Janitor_timed_out") == 1


def test_a_runner_without_a_job_fails_after_the_waiting_for_job_timeout(world: World) -> None:
    record = world.queue_runner()
    world.task_running(record)
    world.clock.advance(world.settings.waiting_for_job_timeout_seconds + 1)
    assert run_janitor(world.deps()).timed_out == 1
    assert_failed_and_cleaned(
        world,
        record.runner_name,
        "no job within the WAITING_FOR_JOB timeout of 1800s (counted from the task reaching RUNNING)",
    )


def test_a_runner_past_its_ttl_is_stopped_and_failed(make_world: MakeWorld) -> None:
    world = make_world(runner_ttl_seconds=3600)
    record = world.queue_runner()
    world.task_running(record)
    world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)
    world.clock.advance(3601)
    report = run_janitor(world.deps())
    assert report.expired == 1
    assert_failed_and_cleaned(
        world, record.runner_name, "task exceeded the runner TTL of 3600s (counted from its RunTask)"
    )
    assert world.metrics.total("RunnersFailed", reason="ttl") == 1


def test_runners_within_their_limits_are_left_alone(world: World) -> None:
    starting = world.queue_runner()
    waiting = world.queue_runner()
    world.task_running(waiting)
    running = world.queue_runner()
    world.job_event("in_progress", job_id=running.job_id, runner_name=running.runner_name)
    world.clock.advance(600)
    mark = world.calls.mark()
    report = run_janitor(world.deps())
    assert report.active_seen == 3 and report.errors == []
    assert (report.relaunched, report.timed_out, report.expired) == (0, 0, 0)
    lease = [
        c
        for c in world.calls.since(mark)
        if c.params.get("Item", c.params.get("Key", {})).get("pk") == {"S": "LEASE#janitor"}
    ]
    assert [c.name for c in lease] == ["dynamodb.PutItem", "dynamodb.DeleteItem"]  # one run at a time
    assert [c for c in world.calls.since(mark) if c.mutating and c not in lease] == []
    assert world.record(starting.runner_name).status is RunnerStatus.STARTING
    assert world.record(waiting.runner_name).status is RunnerStatus.WAITING_FOR_JOB
    assert world.record(running.runner_name).status is RunnerStatus.RUNNING


def start_task(world: World, runner_name: str, *, started_by: str | None = None) -> str:
    task_definition = world.settings.base_task_definition_arn
    return world.services.launcher.run_task(
        TaskRequest(
            runner_name=started_by or runner_name,
            task_definition_arn=task_definition,
            cpu=1024,
            memory=2048,
            spot=False,
            environment_file_arn=f"arn:aws:s3:::{world.settings.jit_bucket}/jit/{runner_name}.env",
            tags={"ecsrunner:runner-name": runner_name},
            client_token=runner_name,
        )
    )


def test_orphan_tasks_are_stopped(world: World) -> None:
    ended = world.queue_runner()
    world.task_stopped(ended)  # the record is terminal, but the task is still running in ECS
    assert world.task(ended.task_arn or "")["desiredStatus"] == "RUNNING"
    unknown = start_task(world, new_runner_name(world.settings.name))  # no record at all
    foreign = start_task(world, "web-1", started_by="ecs-svc/9223370556150183303")
    active = world.queue_runner()

    report = run_janitor(world.deps())
    assert report.orphan_tasks_stopped == 2
    assert world.task(ended.task_arn or "")["desiredStatus"] == "STOPPED"
    assert world.task(unknown)["desiredStatus"] == "STOPPED"
    assert world.task(foreign)["desiredStatus"] == "RUNNING"
    assert world.task(active.task_arn or "")["desiredStatus"] == "RUNNING"
    reasons = {c.params["task"]: c.params["reason"] for c in world.calls.of("ecs.StopTask")}
    assert reasons[ended.task_arn or ""] == f"orphan: runner {ended.runner_name} is OFFLINE"
    assert reasons[unknown].endswith("is unknown")


def register(world: World, name: str, *, status: str = "offline", busy: bool = False) -> int:
    runner = world.github.state.register_runner(
        repo_scope(REPO), name, labels=("self-hosted",), group_id=1, work_folder="_work", secret="s"
    )
    assert runner is not None
    runner.status, runner.busy = status, busy
    return runner.id


def test_orphan_github_registrations_of_ours_are_deleted(world: World) -> None:
    active = world.queue_runner()
    ended = world.queue_runner()
    world.task_stopped(ended, stop_code="TaskFailedToStart", exit_code=None)  # its registration is gone
    orphan = register(world, new_runner_name(world.settings.name))
    ended_leftover = register(world, new_runner_name(world.settings.name))
    other_fleet = register(world, OTHER_FLEET_RUNNER)
    busy = register(world, new_runner_name(world.settings.name), status="online", busy=True)
    online_idle = register(world, new_runner_name(world.settings.name), status="online")
    human = register(world, "build-box-7")

    report = run_janitor(world.deps())
    assert report.orphan_runners_deleted == 2
    remaining = set(world.github.state.runners)
    assert orphan not in remaining and ended_leftover not in remaining
    assert {other_fleet, busy, online_idle, human, active.github_runner_id} <= remaining


def test_a_registration_of_an_active_runner_is_kept_even_if_offline(world: World) -> None:
    record = world.queue_runner()
    registration = world.github.state.runners[record.github_runner_id or 0]
    assert registration.status == "offline"  # registered, not connected yet
    assert run_janitor(world.deps()).orphan_runners_deleted == 0
    assert record.github_runner_id in world.github.state.runners


@pytest.mark.parametrize("retention", [3600, 14 * 86400])
def test_terminal_records_expire_after_the_configured_retention(
    make_world: MakeWorld, retention: int
) -> None:
    world = make_world(record_retention_seconds=retention)
    offline = world.queue_runner()
    world.task_stopped(offline)
    active = world.queue_runner()
    refused_job = world.next_job_id()
    world.webhook(
        "workflow_job", job_payload("queued", job_id=refused_job, labels=["self-hosted", "class:x"])
    )
    refused = world.record_for_job(refused_job)
    assert refused is not None
    expected = int((world.clock.now() + timedelta(seconds=retention)).timestamp())
    assert expires_at(world, offline.runner_name) == expected
    assert expires_at(world, refused.runner_name) == expected
    assert expires_at(world, active.runner_name) is None  # active records never expire
    world.clock.advance(world.settings.starting_timeout_seconds + 1)
    run_janitor(world.deps())
    assert expires_at(world, active.runner_name) == int(
        (world.clock.now() + timedelta(seconds=retention)).timestamp()
    )


def test_one_broken_record_does_not_stop_the_sweep(world: World) -> None:
    first = world.queue_runner()
    second = world.queue_runner()
    world.clock.advance(world.settings.starting_timeout_seconds + 1)

    def writes_first(params: dict[str, Any]) -> bool:
        puts = [item["Put"]["Item"] for item in params["TransactItems"] if "Put" in item]
        return any(put.get("runner_name", {}).get("S") == first.runner_name for put in puts)

    error = client_error("InternalServerError", "Internal server error", 500)
    world.calls.faults.append(Fault("dynamodb.TransactWriteItems", error, when=writes_first, times=100))
    report = run_janitor(world.deps())
    assert len(report.errors) == 1 and first.runner_name in report.errors[0]
    assert world.record(second.runner_name).status is RunnerStatus.FAILED
    assert world.record(first.runner_name).status is RunnerStatus.STARTING
