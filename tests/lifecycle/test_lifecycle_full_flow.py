"""One whole runner life through the control plane: queued -> task RUNNING -> job in_progress ->
completed -> task STOPPED, with the GitHub side played by the stand-in's runner simulator (the JIT
config it comes online with is the one the ECS agent would read from the environment file)."""

from __future__ import annotations

from datetime import timedelta

from ecsrunner_core.domain.status import RunnerStatus

from tests.lifecycle.support import REPO, World


def test_a_queued_job_runs_on_one_runner_from_queue_to_offline(world: World) -> None:
    job = world.sim.queue_job(REPO, ["self-hosted", "linux"])
    response = world.webhook("workflow_job", world.sim.payload(job, "queued"))
    assert response["statusCode"] == 200, response
    record = world.record_for_job(job.id)
    assert record is not None and record.status is RunnerStatus.STARTING and record.task_arn
    name = record.runner_name
    assert world.calls.names().count("ecs.RunTask") == 1
    assert world.assert_counter_matches_slots() == 1

    # The ECS agent reads the environment file; the runner connects with that JIT config.
    runner = world.sim.runner_online(world.jit_config(name))
    assert runner.name == name and runner.id == record.github_runner_id
    world.clock.advance(40)
    assert world.task_running(record)["outcome"] == "waiting_for_job"
    assert world.jit_object(name) is None
    assert world.record(name).status is RunnerStatus.WAITING_FOR_JOB

    started = world.sim.assign_job(runner.id)
    assert started is not None and started.id == job.id
    world.clock.advance(5)
    assert world.webhook("workflow_job", world.sim.payload(started))["statusCode"] == 200
    running = world.record(name)
    assert running.status is RunnerStatus.RUNNING and running.run_job_id == job.id

    world.sim.complete_job(job.id, "success")
    world.clock.advance(60)
    assert world.webhook("workflow_job", world.sim.payload(job, "completed"))["statusCode"] == 200
    assert world.record(name).conclusion == "success"

    assert world.task_stopped(record)["outcome"] == "offline"
    final = world.record(name)
    assert final.status is RunnerStatus.OFFLINE
    assert list(final.status_path) == [
        RunnerStatus.STARTING,
        RunnerStatus.WAITING_FOR_JOB,
        RunnerStatus.RUNNING,
        RunnerStatus.OFFLINE,
    ]
    assert world.assert_counter_matches_slots() == 0
    item = next(i for i in world.runner_items() if i["runner_name"] == name)
    retention = timedelta(seconds=world.settings.record_retention_seconds)
    assert int(item["expires_at"]) == int((world.clock.now() + retention).timestamp())
    assert world.github.state.runners == {}  # the ephemeral runner deregistered itself
    assert world.metrics.total("RunnersLaunched") == 1
    assert [name for name, _ in world.metrics.timings] == [
        "LaunchLatency",
        "QueueToStartLatency",
        "JobStartLatency",
    ]
    assert world.metrics.timings[1][1] == 40.0
    assert world.metrics.timings[2][1] == 45.0  # queued -> in_progress, a cold start
    assert world.metrics.timing_dimensions[2] == {"start": "cold"}
