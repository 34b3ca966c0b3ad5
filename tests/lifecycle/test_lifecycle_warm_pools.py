"""Warm pools (issue 16): idle runners registered ahead of the jobs, claimed once per job, refilled,
sized by schedule, recycled, and never stopped while busy."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ecsrunner_core.domain.pools import pools_from_json
from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.janitor import run_janitor
from ecsrunner_core.views import runner_view

from tests.lifecycle.support import OUR_LABELS, REPO, MakeWorld, World

MEDIUM = {"medium": {"class": "medium", "size": 2}}
# Working hours in Paris: 2 runners from 08:00, none from 19:00 (Monday to Friday).
OFFICE_HOURS = {
    "medium": {
        "class": "medium",
        "size": 2,
        "schedules": [
            {"cron": "0 8 * * 1-5", "size": 2, "timezone": "Europe/Paris"},
            {"cron": "0 19 * * 1-5", "size": 0, "timezone": "Europe/Paris"},
        ],
    }
}


def pooled_world(make_world: MakeWorld, pools: dict[str, Any], **overrides: Any) -> World:
    return make_world(warm_pools=pools_from_json(json.dumps(pools)), **overrides)


def warm_runners(world: World, *, claimed: bool | None = False) -> list[RunnerRecord]:
    records = [world.record(item["runner_name"]) for item in world.runner_items() if item.get("pool")]
    live = [r for r in records if not r.terminal]
    if claimed is None:
        return live
    return [r for r in live if bool(r.job_id) is claimed]


def bring_online(world: World, records: list[RunnerRecord]) -> None:
    """Their tasks run and their runners connect to GitHub: idle warm runners."""
    for record in records:
        current = world.record(record.runner_name)
        world.sim.runner_online(world.jit_config(current.runner_name))
        world.task_running(current)


def fill(world: World) -> list[RunnerRecord]:
    report = run_janitor(world.deps())
    assert report.errors == [], report.errors
    pool = warm_runners(world)
    bring_online(world, pool)
    return [world.record(r.runner_name) for r in pool]


def test_a_job_a_pool_covers_takes_a_warm_runner_without_a_cold_task(make_world: MakeWorld) -> None:
    world = pooled_world(make_world, MEDIUM)
    pool = fill(world)
    assert len(pool) == 2 and all(r.status is RunnerStatus.WAITING_FOR_JOB for r in pool)
    assert all(r.labels == ("self-hosted", "linux", "x64", "class:medium") for r in pool)
    assert all(runner_view(r)["pool"] == "medium" and runner_view(r)["job_id"] is None for r in pool)
    tasks_before = len(world.calls.of("ecs.RunTask"))

    job = world.sim.queue_job(REPO, list(OUR_LABELS))
    mark = world.calls.mark()
    response = world.webhook("workflow_job", world.sim.payload(job, "queued"))
    answer = json.loads(response["body"])
    assert answer["outcome"] == "accepted" and answer["detail"] == "warm runner from pool medium"
    claimed = world.record(answer["runner"])
    assert claimed.runner_name in {r.runner_name for r in pool} and claimed.job_id == job.id
    assert world.record_for_job(job.id) == claimed
    # The refill is the only task started: the job itself needed no cold start.
    assert len(world.calls.of("ecs.RunTask", mark)) == 1
    assert len(world.calls.of("ecs.RunTask")) == tasks_before + 1
    assert len(warm_runners(world)) == 2  # one idle, one refill on its way
    assert world.metrics.total("WarmPoolClaims", pool="medium") == 1
    # GitHub gives the job to the warm runner: a warm hit, a few seconds after the queue.
    runner = world.github.state.runner_named("repos/octo-org/octo-repo", claimed.runner_name)
    assert runner is not None and world.sim.assign_job(runner.id) is not None
    world.clock.advance(3)
    world.webhook("workflow_job", world.sim.payload(job, "in_progress"))
    assert world.record(claimed.runner_name).status is RunnerStatus.RUNNING
    (name, seconds), dimensions = world.metrics.timings[-1], world.metrics.timing_dimensions[-1]
    assert (name, seconds, dimensions) == ("JobStartLatency", 3.0, {"start": "warm"})


def test_a_burst_larger_than_the_pool_claims_each_warm_runner_once(make_world: MakeWorld) -> None:
    world = pooled_world(make_world, MEDIUM)
    pool = fill(world)
    answers = []
    for _ in range(10):
        job = world.sim.queue_job(REPO, list(OUR_LABELS))
        answers.append(json.loads(world.webhook("workflow_job", world.sim.payload(job, "queued"))["body"]))
    warm = [a for a in answers if a["detail"] == "warm runner from pool medium"]
    cold = [a for a in answers if a["detail"] != "warm runner from pool medium"]
    assert len(warm) == 2 and len(cold) == 8
    assert sorted(a["runner"] for a in warm) == sorted(r.runner_name for r in pool)
    assert all(a["outcome"] == "accepted" for a in answers)
    guards = [g["runner_name"] for g in world.job_guards()]
    assert len(guards) == len(set(guards)) == 10  # no runner claimed twice


def test_a_redelivered_queued_after_a_claim_is_a_duplicate(make_world: MakeWorld) -> None:
    world = pooled_world(make_world, MEDIUM)
    fill(world)
    job = world.sim.queue_job(REPO, list(OUR_LABELS))
    first = json.loads(world.webhook("workflow_job", world.sim.payload(job, "queued"))["body"])
    again = json.loads(world.webhook("workflow_job", world.sim.payload(job, "queued"))["body"])
    assert again["outcome"] == "duplicate" and again["runner"] == first["runner"]
    assert len(warm_runners(world, claimed=True)) == 1


def test_a_warm_runner_github_gives_a_job_before_its_delivery_is_claimed_for_it(
    make_world: MakeWorld,
) -> None:
    world = pooled_world(make_world, MEDIUM)
    pool = fill(world)
    job = world.sim.queue_job(REPO, list(OUR_LABELS))
    runner = world.github.state.runner_named("repos/octo-org/octo-repo", pool[0].runner_name)
    assert runner is not None and world.sim.assign_job(runner.id) == job
    world.webhook("workflow_job", world.sim.payload(job, "in_progress"))  # before its queued delivery
    took = world.record(pool[0].runner_name)
    assert took.status is RunnerStatus.RUNNING and took.job_id == job.id and took.run_job_id == job.id
    late = json.loads(world.webhook("workflow_job", world.sim.payload(job, "queued"))["body"])
    assert late["outcome"] == "duplicate" and late["runner"] == took.runner_name
    assert len(warm_runners(world)) == 2  # the other one, and the refill


def test_jobs_a_pool_does_not_cover_never_claim_it(make_world: MakeWorld) -> None:
    world = pooled_world(make_world, MEDIUM)
    fill(world)
    for labels in (
        ("self-hosted", "class:large"),
        ("self-hosted", "image:ubuntu:24.04"),
        ("self-hosted", "gpu"),
    ):
        job = world.sim.queue_job(REPO, list(labels))
        world.webhook("workflow_job", world.sim.payload(job, "queued"))
    assert len(warm_runners(world, claimed=True)) == 0 and len(warm_runners(world)) == 2


def test_the_schedule_shrinks_the_pool_at_night_without_stopping_a_busy_runner(make_world: MakeWorld) -> None:
    world = pooled_world(make_world, OFFICE_HOURS)
    world.clock.current = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # Tuesday, 17:00 in Paris
    pool = fill(world)
    assert len(pool) == 2
    # GitHub gave one of them a job, whose in_progress delivery is late.
    job = world.sim.queue_job(REPO, list(OUR_LABELS))
    runner = world.github.state.runner_named("repos/octo-org/octo-repo", pool[0].runner_name)
    assert runner is not None and world.sim.assign_job(runner.id) == job
    world.clock.current = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)  # 19:30 in Paris
    report = run_janitor(world.deps())
    assert report.warm_runners_retired == 1
    busy, idle = (world.record(r.runner_name) for r in pool)
    assert not busy.terminal and busy.status is RunnerStatus.RUNNING
    assert world.task(busy.task_arn or "")["desiredStatus"] == "RUNNING"
    assert idle.status is RunnerStatus.OFFLINE and "shrinks to 0" in idle.status_reason
    assert world.metrics.total("WarmPoolTarget", pool="medium") == 2  # the day's run; the night's is 0


def test_a_runner_idle_past_its_age_is_replaced_before_it_is_stopped(make_world: MakeWorld) -> None:
    pools = {"medium": {"class": "medium", "size": 1, "max_idle_seconds": 3600}}
    world = pooled_world(make_world, pools)
    (old,) = fill(world)
    world.clock.advance(3601)
    mark = world.calls.mark()
    report = run_janitor(world.deps())
    assert (report.warm_runners_added, report.warm_runners_retired) == (1, 1)
    names = [c.name for c in world.calls.since(mark) if c.name in ("ecs.RunTask", "ecs.StopTask")]
    assert names == ["ecs.RunTask", "ecs.StopTask"]  # the replacement starts before the old stops
    assert world.record(old.runner_name).status is RunnerStatus.OFFLINE
    assert len(warm_runners(world)) == 1


def test_a_warm_runner_that_dies_unclaimed_is_replaced_at_once(make_world: MakeWorld) -> None:
    world = pooled_world(make_world, MEDIUM)
    pool = fill(world)
    world.task_stopped(pool[0], stop_code="SpotInterruption", stopped_reason="interrupted", exit_code=143)
    assert world.record(pool[0].runner_name).status is RunnerStatus.FAILED
    assert world.metrics.total("RunnersRelaunched") == 0  # no job to relaunch
    assert len(warm_runners(world)) == 2
    assert world.job_guards() == []


def test_warm_runners_count_against_max_runners(make_world: MakeWorld) -> None:
    world = pooled_world(make_world, {"medium": {"class": "medium", "size": 3}}, max_runners=2)
    run_janitor(world.deps())
    pool = warm_runners(world)
    assert len(pool) == 3 and sum(1 for r in pool if r.holds_slot) == 2
    assert world.assert_counter_matches_slots() == 2


def test_the_runners_of_a_removed_pool_are_retired(make_world: MakeWorld) -> None:
    world = pooled_world(make_world, MEDIUM)
    pool = fill(world)
    world.configure(warm_pools=())
    report = run_janitor(world.deps())
    assert report.warm_runners_retired == 2
    assert all(world.record(r.runner_name).status is RunnerStatus.OFFLINE for r in pool)
