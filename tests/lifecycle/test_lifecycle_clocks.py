"""Timeouts that measure what they name (issue 14): each clock starts where docs/DESIGN.md says, and
the janitor never stops a runner GitHub reports busy (except at the TTL)."""

from __future__ import annotations

from datetime import timedelta

from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.janitor import run_janitor

from tests.lifecycle.support import Fault, MakeWorld, World, client_error


def online_and_busy(world: World, runner_name: str) -> int:
    """The runner connects and GitHub gives it its job; no ``in_progress`` delivery arrives."""
    record = world.record(runner_name)
    runner = world.sim.runner_online(world.jit_config(runner_name))
    assert world.sim.assign_job(runner.id) is not None
    world.task_running(record)
    return runner.id


def test_a_three_hour_job_behind_a_fifty_minute_image_build_is_not_stopped(world: World) -> None:
    record = world.queue_on_github(("self-hosted", "image:ubuntu:24.04"))
    assert record.status is RunnerStatus.IMAGE_CREATING
    (build,) = world.calls.of("codebuild.StartBuild")
    world.clock.advance(50 * 60)
    world.push_image("ubuntu:24.04")
    build_id = build.response["build"]["id"] if build.response else ""
    world.build_event(build_id, "SUCCEEDED")
    launched = world.record(record.runner_name)
    assert launched.task_arn and launched.task_started_at == world.clock.now()
    online_and_busy(world, record.runner_name)
    world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)
    for _ in range(36):  # three hours of janitor runs
        world.clock.advance(300)
        run_janitor(world.deps())
    kept = world.record(record.runner_name)
    assert kept.status is RunnerStatus.RUNNING
    assert world.task(kept.task_arn or "")["desiredStatus"] == "RUNNING"
    # The TTL counts from the task's RunTask (default: 6 h of GitHub's default job timeout + 1 h).
    assert world.settings.runner_ttl_seconds == 7 * 3600
    world.clock.advance(4 * 3600 + 1)
    assert run_janitor(world.deps()).expired == 1
    assert "counted from its RunTask" in world.record(record.runner_name).status_reason


def test_a_runner_that_waited_twenty_minutes_for_a_slot_is_not_failed_after_its_launch(
    make_world: MakeWorld,
) -> None:
    world = make_world(max_runners=1)
    first = world.queue_on_github()
    waiting = world.queue_on_github()
    assert waiting.task_arn is None and not waiting.holds_slot
    world.task_running(first)
    world.job_event("in_progress", job_id=first.job_id, runner_name=first.runner_name)
    world.clock.advance(20 * 60)
    run_janitor(world.deps())  # still no slot; the launch wait limit is 24 h, not 15 min
    assert world.record(waiting.runner_name).status is RunnerStatus.STARTING
    world.task_stopped(world.record(first.runner_name))  # its slot frees: the waiting one launches
    launched = world.record(waiting.runner_name)
    assert launched.task_arn and launched.task_started_at == world.clock.now()
    world.clock.advance(world.settings.starting_timeout_seconds)  # 15 min after its RunTask: not over
    run_janitor(world.deps())
    assert world.record(waiting.runner_name).status is RunnerStatus.STARTING
    # The history shows when each clock started.
    reasons = [entry.reason for entry in launched.history]
    assert any(reason.startswith("task started (RunTask)") for reason in reasons)


def test_a_busy_runner_whose_in_progress_never_arrived_survives_every_janitor_run(world: World) -> None:
    record = world.queue_on_github()
    runner_id = online_and_busy(world, record.runner_name)
    for _ in range(12):  # an hour, past the WAITING_FOR_JOB timeout of 30 minutes
        world.clock.advance(300)
        run_janitor(world.deps())
        current = world.record(record.runner_name)
        assert not current.terminal
        assert world.task(current.task_arn or "")["desiredStatus"] == "RUNNING"
    kept = world.record(record.runner_name)
    assert kept.status is RunnerStatus.RUNNING and "GitHub reports the runner busy" in kept.status_reason
    assert world.metrics.total("RunnersFoundBusy") == 1
    assert runner_id in world.github.state.runners  # never deregistered
    world.sim.complete_job(record.job_id)
    world.task_stopped(kept)
    assert world.record(record.runner_name).status is RunnerStatus.OFFLINE


def test_an_idle_runner_past_the_waiting_timeout_is_deregistered_before_its_task_stops(world: World) -> None:
    record = world.queue_on_github()
    runner = world.sim.runner_online(world.jit_config(record.runner_name))
    world.github.state.jobs[record.job_id].status = "completed"  # no job for it any more
    world.task_running(record)
    world.clock.advance(world.settings.waiting_for_job_timeout_seconds + 1)
    run_janitor(world.deps())
    ended = world.record(record.runner_name)
    assert ended.status is RunnerStatus.FAILED and "WAITING_FOR_JOB timeout" in ended.status_reason
    assert runner.id not in world.github.state.runners
    methods = [
        (method, status) for method, path, status in world.github.calls if path.endswith(f"/{runner.id}")
    ]
    assert methods[:2] == [("GET", 200), ("DELETE", 204)]  # asked, then deregistered, then stopped


def test_a_change_of_the_base_task_definition_reaches_existing_images(world: World) -> None:
    first = world.queue_runner()
    (register,) = world.calls.of("ecs.RegisterTaskDefinition")
    derived = register.response["taskDefinition"]["taskDefinitionArn"] if register.response else ""
    assert first.task_arn
    # terraform apply changes the base (here its stop timeout): a new revision, a new Lambda env.
    ecs = world.client("ecs")
    base = ecs.describe_task_definition(taskDefinition=world.settings.base_task_definition_arn)
    definition = base["taskDefinition"]
    containers = [{**c, "stopTimeout": 60} for c in definition["containerDefinitions"]]
    revised = ecs.register_task_definition(
        family=definition["family"],
        containerDefinitions=containers,
        requiresCompatibilities=definition["requiresCompatibilities"],
        networkMode=definition["networkMode"],
        cpu=definition["cpu"],
        memory=definition["memory"],
        executionRoleArn=definition["executionRoleArn"],
        taskRoleArn=definition["taskRoleArn"],
    )["taskDefinition"]["taskDefinitionArn"]
    world.configure(base_task_definition_arn=revised)
    world.clock.advance(120)  # past the per-container image cache
    second = world.queue_runner()
    registrations = world.calls.of("ecs.RegisterTaskDefinition")
    assert len(registrations) == 2
    fresh = registrations[1].response["taskDefinition"] if registrations[1].response else {}
    assert fresh["taskDefinitionArn"] != derived
    assert all(c.get("stopTimeout") == 60 for c in fresh["containerDefinitions"])
    (_, run) = world.calls.of("ecs.RunTask")
    assert run.params["taskDefinition"] == fresh["taskDefinitionArn"] and second.task_arn
    assert world.calls.of("codebuild.StartBuild") == []  # no rebuild


def test_a_deregistered_derived_revision_is_registered_again(world: World) -> None:
    first = world.queue_runner()
    (register,) = world.calls.of("ecs.RegisterTaskDefinition")
    derived = register.response["taskDefinition"]["taskDefinitionArn"] if register.response else ""
    world.client("ecs").deregister_task_definition(taskDefinition=derived)
    # ECS refuses to run an INACTIVE revision (moto does not check it: the answer is ECS's).
    inactive = client_error("ClientException", "TaskDefinition is inactive")
    world.calls.faults.append(Fault("ecs.RunTask", inactive, when=lambda p: p["taskDefinition"] == derived))
    second = world.queue_runner()
    assert first.task_arn and second.task_arn and second.attempts == 0
    registrations = world.calls.of("ecs.RegisterTaskDefinition")
    assert len(registrations) == 2
    fresh = (
        registrations[1].response["taskDefinition"]["taskDefinitionArn"] if registrations[1].response else ""
    )
    assert fresh != derived
    assert world.calls.of("ecs.RunTask")[-1].params["taskDefinition"] == fresh
    image = world.store().get_image(second.image_tag or "")
    assert image is not None and image.task_definition_arn == fresh


def test_overlapping_janitor_runs_do_not_both_act(world: World) -> None:
    """A wake-up during a scheduled run: the second run ends at once (a lease, not a sleep)."""
    from ecsrunner_core.usecases.janitor import JANITOR_LEASE

    world.queue_on_github()
    holder = world.store()
    assert holder.claim_lease(JANITOR_LEASE, "another run", world.clock.now() + timedelta(minutes=5))
    mark = world.calls.mark()
    report = run_janitor(world.deps())
    assert report.errors == ["another janitor run is in progress"] and report.active_seen == 0
    assert [c.name for c in world.calls.since(mark)] == ["dynamodb.PutItem"]  # the refused claim
    world.clock.advance(301)  # a run that died holds it no longer than its lease
    assert run_janitor(world.deps()).errors == []


def test_a_janitor_run_launches_several_waiting_runners_at_once_and_each_once(make_world: MakeWorld) -> None:
    world = make_world(launch_concurrency=4)
    world.store().set_pause("github", world.clock.now() + timedelta(seconds=120))  # GitHub paused us
    waiting = [world.queue_on_github() for _ in range(6)]
    assert all(r.task_arn is None for r in waiting) and world.calls.of("ecs.RunTask") == []
    world.clock.advance(121)
    world.services.store._pauses.clear()  # the per-container pause cache (5 s) has run out
    report = run_janitor(world.deps())
    assert report.relaunched == 6 and report.errors == []
    launched = world.calls.of("ecs.RunTask")
    assert sorted(c.params["startedBy"] for c in launched) == sorted(r.runner_name for r in waiting)
    assert len(world.tasks()) == 6 and world.assert_counter_matches_slots() == 6
