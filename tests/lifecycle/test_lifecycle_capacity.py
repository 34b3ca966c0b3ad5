"""queued step 3: ``max_runners`` is enforced in DynamoDB; over the cap a runner waits and is
launched when a slot frees. The counter item equals the slot holders after every step."""

from __future__ import annotations

from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.janitor import run_janitor

from tests.lifecycle.support import MakeWorld, World


def capped(make_world: MakeWorld) -> World:
    return make_world(max_runners=2)


def test_the_third_job_waits_and_launches_when_a_runner_stops(make_world: MakeWorld) -> None:
    world = capped(make_world)
    first = world.queue_runner()
    assert world.assert_counter_matches_slots() == 1
    second = world.queue_runner()
    assert world.assert_counter_matches_slots() == 2
    third = world.queue_runner()
    assert world.assert_counter_matches_slots() == 2

    assert first.task_arn and second.task_arn
    assert third.status is RunnerStatus.STARTING and third.task_arn is None
    assert third.last_error and "waiting for capacity" in third.last_error
    assert third.attempts == 0 and third.next_attempt_at is None
    assert not third.holds_slot and third.github_runner_id is None
    assert len(world.calls.of("ecs.RunTask")) == 2
    assert len(world.github.calls_to("POST", "/generate-jitconfig")) == 2
    assert world.metrics.total("RunnersWaitingForCapacity") == 1

    world.task_running(first)
    assert world.assert_counter_matches_slots() == 2
    assert world.record(third.runner_name).task_arn is None

    outcome = world.task_stopped(first)
    assert outcome["outcome"] == "offline"
    launched = world.record(third.runner_name)
    assert launched.task_arn and launched.holds_slot and launched.status is RunnerStatus.STARTING
    assert launched.last_error is None and launched.attempts == 0
    assert world.assert_counter_matches_slots() == 2
    assert len(world.calls.of("ecs.RunTask")) == 3


def test_a_runner_waiting_for_capacity_spends_no_launch_attempts(make_world: MakeWorld) -> None:
    world = capped(make_world)
    world.queue_runner()
    world.queue_runner()
    third = world.queue_runner()
    for _ in range(world.settings.max_launch_attempts + 1):
        world.clock.advance(60)  # janitor runs, all within the STARTING timeout of the others
        run_janitor(world.deps())
    waiting = world.record(third.runner_name)
    assert waiting.status is RunnerStatus.STARTING and waiting.attempts == 0
    assert waiting.last_error and "waiting for capacity" in waiting.last_error
    assert world.assert_counter_matches_slots() == 2


def test_a_failed_runner_frees_its_slot_too(make_world: MakeWorld) -> None:
    world = capped(make_world)
    first, _second, third = (world.queue_runner() for _ in range(3))
    world.task_stopped(first, stop_code="TaskFailedToStart", exit_code=None, stopped_reason="boom")
    assert world.record(first.runner_name).status is RunnerStatus.FAILED
    assert world.record(third.runner_name).task_arn
    assert world.assert_counter_matches_slots() == 2


def test_waiting_runners_launch_oldest_first_one_per_freed_slot(make_world: MakeWorld) -> None:
    world = capped(make_world)
    first, second = world.queue_runner(), world.queue_runner()
    world.clock.advance(1)
    third = world.queue_runner()
    world.clock.advance(1)
    fourth = world.queue_runner()
    world.task_stopped(first)
    assert world.record(third.runner_name).task_arn
    assert world.record(fourth.runner_name).task_arn is None
    world.task_stopped(second)
    assert world.record(fourth.runner_name).task_arn
    assert world.assert_counter_matches_slots() == 2


def test_a_duplicate_stopped_event_takes_no_second_slot_back(make_world: MakeWorld) -> None:
    world = capped(make_world)
    first = world.queue_runner()
    world.task_stopped(first)
    assert world.assert_counter_matches_slots() == 0
    assert world.task_stopped(first)["outcome"] == "noop"
    assert world.counter() == 0


def test_the_janitor_launches_a_waiting_runner_once_capacity_is_free(make_world: MakeWorld) -> None:
    world = capped(make_world)
    first, second, third = (world.queue_runner() for _ in range(3))
    # The slot frees without an ECS event reaching us (the operator terminates the runner).
    from ecsrunner_core.usecases.operator import terminate_runner

    terminate_runner(world.deps(), first.runner_name)
    assert world.record(first.runner_name).status is RunnerStatus.OFFLINE
    assert world.record(third.runner_name).task_arn  # the operator path launches the next one
    assert world.assert_counter_matches_slots() == 2
    report = run_janitor(world.deps())
    assert report.relaunched == 0
    assert world.assert_counter_matches_slots() == 2
    assert world.record(second.runner_name).task_arn


def test_a_slot_freed_by_the_janitor_goes_to_a_waiting_runner_in_the_same_run(make_world: MakeWorld) -> None:
    world = make_world(max_runners=1)
    idle = world.queue_runner()
    world.task_running(idle)
    world.clock.advance(60)
    waiting = world.queue_runner()
    assert world.record(waiting.runner_name).task_arn is None
    world.clock.advance(world.settings.waiting_for_job_timeout_seconds)
    report = run_janitor(world.deps())
    assert report.timed_out == 1 and report.relaunched == 1
    assert world.record(idle.runner_name).status is RunnerStatus.FAILED
    assert world.record(waiting.runner_name).task_arn
    assert world.assert_counter_matches_slots() == 1
