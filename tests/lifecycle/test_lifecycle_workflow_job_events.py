"""workflow_job in_progress and completed: the runner named in ``runner_name`` is RUNNING and then
records the conclusion; a runner whose job went elsewhere (or was cancelled) is retired."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ecsrunner_core.domain.names import new_runner_name
from ecsrunner_core.domain.status import RunnerStatus

from tests.lifecycle.support import OUR_LABELS, Fault, MakeWorld, World, job_payload


def body(response: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(response["body"])
    return result


def test_in_progress_moves_the_named_runner_to_running(world: World) -> None:
    record = world.queue_runner()
    world.task_running(record)
    response = world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)
    assert body(response)["outcome"] == "running"
    after = world.record(record.runner_name)
    assert after.status is RunnerStatus.RUNNING and after.run_job_id == record.job_id
    assert after.run_job_repository == "octo-org/octo-repo"


def test_a_runner_that_runs_another_job_records_the_job_it_actually_runs(world: World) -> None:
    mine = world.queue_runner()
    other_job = world.next_job_id()
    response = world.job_event("in_progress", job_id=other_job, runner_name=mine.runner_name)
    assert body(response)["outcome"] == "running"
    after = world.record(mine.runner_name)
    assert after.job_id == mine.job_id and after.run_job_id == other_job
    assert after.status is RunnerStatus.RUNNING


@pytest.mark.parametrize("ours", [True, False], ids=["other job ours", "other job never recorded"])
def test_a_runner_that_took_a_job_with_fewer_labels_is_replaced_once(world: World, ours: bool) -> None:
    """Runner L (``self-hosted, linux, class:large``) takes job S (``self-hosted, linux``): no runner
    left can run job L, so it gets a replacement; S's own runner, idle, is retired."""
    large = world.queue_on_github((*OUR_LABELS, "class:large"))
    small = world.queue_runner() if ours else None
    small_job = small.job_id if small else world.next_job_id()
    for action in ("in_progress", "in_progress", "completed"):  # redelivered, then completed: once
        payload = job_payload(action, job_id=small_job, runner_name=large.runner_name, labels=OUR_LABELS)
        world.webhook("workflow_job", payload)

    replacement = world.record_for_job(large.job_id)
    assert replacement is not None and replacement.runner_name != large.runner_name
    assert replacement.replaces == large.runner_name and replacement.labels == large.labels
    assert replacement.status is RunnerStatus.STARTING and replacement.task_arn
    assert f"took job {small_job}" in replacement.status_reason
    assert [item["job_id"] for item in world.runner_items()].count(large.job_id) == 2
    assert world.metrics.total("RunnersReplaced") == 1
    if small is not None:
        retired = world.record(small.runner_name)
        assert (
            retired.status is RunnerStatus.OFFLINE
            and f"ran on runner {large.runner_name}" in retired.status_reason
        )
    world.assert_counter_matches_slots()


def test_a_runner_that_took_a_job_with_the_same_labels_is_not_replaced(world: World) -> None:
    """The runner launched for the job it took has the same labels and will take its job."""
    mine, other = world.queue_runner(), world.queue_runner()
    world.job_event("in_progress", job_id=other.job_id, runner_name=mine.runner_name)
    assert len(world.runner_items()) == 2 and world.metrics.total("RunnersReplaced") == 0
    assert not world.record(other.runner_name).terminal


def test_a_duplicate_in_progress_is_a_no_op(world: World) -> None:
    record = world.queue_runner()
    world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)
    before = world.record(record.runner_name)
    assert (
        body(world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name))["outcome"]
        == "noop"
    )
    assert world.record(record.runner_name) == before


@pytest.mark.parametrize(
    "runner_name",
    ["GitHub Actions 5", "ecsr-short", "other-deployment-aaaaaaaaaaaaaaaaaaaaaaaaaaa", None],
)
def test_in_progress_on_a_runner_that_is_not_ours_is_ignored(world: World, runner_name: str | None) -> None:
    record = world.queue_runner()
    mark = world.calls.mark()
    response = world.job_event("in_progress", job_id=record.job_id, runner_name=runner_name)
    assert response["statusCode"] == 202 and body(response)["outcome"] == "ignored"
    assert world.calls.mutations(mark) == []
    assert world.record(record.runner_name) == record


def test_the_real_in_progress_sample_is_ignored(world: World) -> None:
    payload = job_payload("in_progress", job_id=world.next_job_id(), keep_runner_fields=True)
    assert payload["workflow_job"]["runner_name"] == "GitHub Actions 5"
    assert world.webhook("workflow_job", payload)["statusCode"] == 202
    assert world.items() == []


def test_in_progress_for_one_of_our_names_without_a_record_is_ignored(world: World) -> None:
    response = world.job_event("in_progress", job_id=world.next_job_id(), runner_name=new_runner_name("ecsr"))
    assert body(response)["outcome"] == "ignored"
    assert world.items() == []


@pytest.mark.parametrize(
    ("example", "conclusion"), [("completed", "success"), ("completed:failure", "failure")]
)
def test_completed_records_the_conclusion(world: World, example: str, conclusion: str) -> None:
    record = world.queue_runner()
    world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)
    response = world.job_event(example, job_id=record.job_id, runner_name=record.runner_name)
    assert body(response)["outcome"] == "completed"
    after = world.record(record.runner_name)
    assert after.conclusion == conclusion and after.status is RunnerStatus.RUNNING
    assert world.calls.of("ecs.StopTask") == []  # the runner exits by itself after its one job


def test_a_cancelled_job_retires_its_idle_runner_offline(world: World) -> None:
    """Cancelled before any runner took it: completed arrives with runner_name null."""
    record = world.queue_runner()
    world.task_running(record)
    registration = record.github_runner_id
    assert registration in world.github.state.runners
    registered_at_stop: list[bool] = []

    def observe(params: dict[str, Any]) -> bool:  # lets the call through, noting GitHub's state
        registered_at_stop.append(registration in world.github.state.runners)
        return False

    world.calls.faults.append(Fault("ecs.StopTask", lambda params: None, when=observe))
    response = world.job_event("completed", job_id=record.job_id, runner_name=None)
    assert response["statusCode"] == 202
    after = world.record(record.runner_name)
    assert after.status is RunnerStatus.OFFLINE
    assert "without this runner" in after.status_reason
    assert registration not in world.github.state.runners
    deletes = world.github.calls_to("DELETE", f"/actions/runners/{registration}")
    assert deletes[0][2] == 204
    assert world.task(record.task_arn or "")["desiredStatus"] == "STOPPED"
    assert registered_at_stop == [False]  # deregistered before the task was stopped
    assert world.assert_counter_matches_slots() == 0


def test_a_cancelled_job_keeps_a_runner_github_says_is_busy(world: World) -> None:
    """GitHub says the runner is busy: it took another job and we have not heard yet. It is kept and
    moved to RUNNING (GET .../runners/{id} first; a 422 on the delete would also keep it)."""
    record = world.queue_runner()
    runner = world.sim.runner_online(world.jit_config(record.runner_name))
    other = world.sim.queue_job("octo-org/octo-repo", ["self-hosted", "linux"])
    assert world.sim.assign_job(runner.id) == other
    world.task_running(record)
    world.job_event("completed", job_id=record.job_id, runner_name=None)
    kept = world.record(record.runner_name)
    assert kept.status is RunnerStatus.RUNNING and "GitHub reports the runner busy" in kept.status_reason
    assert world.github.calls_to("GET", f"/actions/runners/{runner.id}")[0][2] == 200
    assert world.github.calls_to("DELETE", f"/actions/runners/{runner.id}") == []
    assert world.task(record.task_arn or "")["desiredStatus"] == "RUNNING"
    assert world.metrics.total("RunnersFoundBusy") == 1


def test_a_runner_that_took_another_job_is_not_retired_when_its_own_job_completes(world: World) -> None:
    first, second = world.queue_runner(), world.queue_runner()
    # GitHub gave job 2 to the first runner and job 1 to the second.
    world.job_event("in_progress", job_id=second.job_id, runner_name=first.runner_name)
    world.job_event("in_progress", job_id=first.job_id, runner_name=second.runner_name)
    world.job_event("completed", job_id=first.job_id, runner_name=second.runner_name)
    assert world.record(first.runner_name).status is RunnerStatus.RUNNING
    assert world.record(second.runner_name).conclusion == "success"
    assert world.record(second.runner_name).status is RunnerStatus.RUNNING


def test_a_cancelled_job_frees_the_slot_for_a_waiting_runner(make_world: MakeWorld) -> None:
    world = make_world(max_runners=1)
    first = world.queue_runner()
    waiting = world.queue_runner()
    assert world.record(waiting.runner_name).task_arn is None
    world.job_event("completed", job_id=first.job_id, runner_name=None)
    assert world.record(first.runner_name).status is RunnerStatus.OFFLINE
    assert world.record(waiting.runner_name).task_arn
    assert world.assert_counter_matches_slots() == 1
