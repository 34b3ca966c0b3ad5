"""The status machine end to end: every transition of ``domain.status.TRANSITIONS``, each caused by
the input that causes it in production, and terminal statuses absorbing every later input.

``TRIGGERS`` must name a trigger for every allowed transition (a new transition fails the coverage
test until it gets one here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.domain.status import TRANSITIONS, RunnerStatus
from ecsrunner_core.usecases.janitor import run_janitor

from tests.lifecycle.support import World, job_payload

S = RunnerStatus
UNBUILT = "ubuntu:24.04"  # the fixture pushes only the default image


def starting(world: World) -> RunnerRecord:
    return world.queue_runner()


def image_creating(world: World) -> RunnerRecord:
    record = world.queue_runner(["self-hosted", f"image:{UNBUILT}"])
    assert record.status is S.IMAGE_CREATING
    return record


def waiting_for_job(world: World) -> RunnerRecord:
    record = world.queue_runner()
    world.task_running(record)
    return world.record(record.runner_name)


def running(world: World) -> RunnerRecord:
    record = world.queue_runner()
    world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)
    return world.record(record.runner_name)


SETUP: dict[RunnerStatus, Callable[[World], RunnerRecord]] = {
    S.STARTING: starting,
    S.IMAGE_CREATING: image_creating,
    S.WAITING_FOR_JOB: waiting_for_job,
    S.RUNNING: running,
}


def build_id(world: World) -> str:
    image = world.store().get_image(world.image_tag(UNBUILT))
    assert image is not None and image.build_id
    return image.build_id


def queued_with_unbuilt_image(world: World, record: RunnerRecord) -> RunnerRecord:
    """A new job: its record is created STARTING and moves on within the same delivery."""
    return image_creating(world)


def ecs_running(world: World, record: RunnerRecord) -> Any:
    return world.task_running(record)


def job_in_progress(world: World, record: RunnerRecord) -> Any:
    return world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)


def clean_exit_before_a_job(world: World, record: RunnerRecord) -> Any:
    return world.task_stopped(record, stop_code="EssentialContainerExited", exit_code=0)


def failed_to_start(world: World, record: RunnerRecord) -> Any:
    return world.task_stopped(record, stop_code="TaskFailedToStart", exit_code=None)


def stopped_after_the_job(world: World, record: RunnerRecord) -> Any:
    return world.task_stopped(record, exit_code=0)


def build_succeeded(world: World, record: RunnerRecord) -> Any:
    world.push_image(UNBUILT)
    return world.build_event(build_id(world), "SUCCEEDED")


def build_failed(world: World, record: RunnerRecord) -> Any:
    return world.build_event(build_id(world), "FAILED")


def job_cancelled(world: World, record: RunnerRecord) -> Any:
    return world.job_event("completed", job_id=record.job_id, runner_name=None)


def janitor_after(seconds: Callable[[World], int]) -> Callable[[World, RunnerRecord], Any]:
    def trigger(world: World, record: RunnerRecord) -> Any:
        world.clock.advance(seconds(world) + 1)
        return run_janitor(world.deps())

    return trigger


TRIGGERS: dict[tuple[RunnerStatus, RunnerStatus], tuple[str, Callable[[World, RunnerRecord], Any]]] = {
    (S.STARTING, S.IMAGE_CREATING): ("queued job whose image is not in ECR", queued_with_unbuilt_image),
    (S.STARTING, S.WAITING_FOR_JOB): ("ECS task RUNNING", ecs_running),
    (S.STARTING, S.RUNNING): ("workflow_job in_progress before the task event", job_in_progress),
    (S.STARTING, S.OFFLINE): ("ECS STOPPED, exit 0, no job", clean_exit_before_a_job),
    (S.STARTING, S.FAILED): ("ECS STOPPED TaskFailedToStart", failed_to_start),
    (S.IMAGE_CREATING, S.STARTING): ("CodeBuild SUCCEEDED", build_succeeded),
    (S.IMAGE_CREATING, S.OFFLINE): ("workflow_job completed without a runner (cancelled)", job_cancelled),
    (S.IMAGE_CREATING, S.FAILED): ("CodeBuild FAILED", build_failed),
    (S.WAITING_FOR_JOB, S.RUNNING): ("workflow_job in_progress", job_in_progress),
    (S.WAITING_FOR_JOB, S.OFFLINE): ("workflow_job completed without a runner (cancelled)", job_cancelled),
    (S.WAITING_FOR_JOB, S.FAILED): (
        "janitor: WAITING_FOR_JOB timeout",
        janitor_after(lambda w: w.settings.waiting_for_job_timeout_seconds),
    ),
    (S.RUNNING, S.OFFLINE): ("ECS STOPPED after the job", stopped_after_the_job),
    (S.RUNNING, S.FAILED): ("janitor: runner TTL", janitor_after(lambda w: w.settings.runner_ttl_seconds)),
}


def test_every_allowed_transition_has_a_trigger() -> None:
    allowed = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert set(TRIGGERS) == allowed


@pytest.mark.parametrize(("source", "target"), list(TRIGGERS), ids=[f"{a}->{b}" for a, b in TRIGGERS])
def test_transition(world: World, source: RunnerStatus, target: RunnerStatus) -> None:
    _, trigger = TRIGGERS[(source, target)]
    record = SETUP[source](world)
    assert record.status is source
    result = trigger(world, record)
    if isinstance(result, RunnerRecord):  # the trigger made its own runner
        record = result
    after = world.record(record.runner_name)
    assert after.status is target, after.status_reason
    statuses = list(after.status_path)
    assert statuses[-2:] == [source, target]
    # The entry of the transition holds the status reason; later entries of the same status are notes
    # (when a clock started, e.g. the RunTask of the task).
    entered = [
        h for i, h in enumerate(after.history) if i == 0 or after.history[i - 1].status is not h.status
    ]
    assert entered[-1].reason == after.status_reason
    assert after.holds_slot is not target.terminal
    world.assert_counter_matches_slots()


def test_an_accepted_job_enters_starting(world: World) -> None:
    record = world.queue_runner()
    assert list(record.status_path) == [S.STARTING]


def test_a_refused_job_enters_failed(world: World) -> None:
    job_id = world.next_job_id()
    world.webhook("workflow_job", job_payload("queued", job_id=job_id, labels=["self-hosted", "class:nope"]))
    record = world.record_for_job(job_id)
    assert record is not None and list(record.status_path) == [S.FAILED]


LATE_INPUTS: dict[str, Callable[[World, RunnerRecord], Any]] = {
    "ECS RUNNING": ecs_running,
    "ECS STOPPED TaskFailedToStart": failed_to_start,
    "ECS STOPPED after the job": stopped_after_the_job,
    "workflow_job in_progress": job_in_progress,
    "workflow_job completed without a runner": job_cancelled,
    "janitor past every timeout and the TTL": janitor_after(lambda w: w.settings.runner_ttl_seconds),
}


@pytest.mark.parametrize("terminal", [S.OFFLINE, S.FAILED])
@pytest.mark.parametrize("late", list(LATE_INPUTS))
def test_terminal_statuses_absorb_later_inputs(world: World, terminal: RunnerStatus, late: str) -> None:
    record = world.queue_runner()
    end = clean_exit_before_a_job if terminal is S.OFFLINE else failed_to_start
    end(world, record)
    ended = world.record(record.runner_name)
    assert ended.status is terminal
    LATE_INPUTS[late](world, ended)
    after = world.record(record.runner_name)
    assert after.status is terminal
    assert after.history == ended.history and after.status_reason == ended.status_reason
    assert len(world.calls.of("ecs.RunTask")) == 1
