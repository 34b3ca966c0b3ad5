"""queued step 2: the runner record is created first, once per job, whatever GitHub redelivers."""

from __future__ import annotations

import json
from typing import Any

from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_sandbox.github_faults import server_error

from tests.lifecycle.support import OUR_LABELS, World, fixture_json, job_payload, retarget_repository


def one_runner_for(world: World, job_id: int) -> None:
    runners = world.runner_items()
    assert len(runners) == 1 and runners[0]["job_id"] == job_id
    assert [g["pk"] for g in world.job_guards()] == [f"JOB#{job_id}"]
    assert world.job_guards()[0]["runner_name"] == runners[0]["runner_name"]
    assert len(world.calls.of("ecs.RunTask")) == 1
    assert len(world.github.calls_to("POST", "/generate-jitconfig")) == 1
    assert len(world.tasks()) == 1


def test_the_same_delivery_twice_launches_one_runner(world: World) -> None:
    job_id = world.next_job_id()
    payload = job_payload("queued", job_id=job_id)
    first = world.webhook("workflow_job", payload, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    second = world.webhook("workflow_job", payload, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert first["statusCode"] == 200 and json.loads(first["body"])["outcome"] == "accepted"
    assert second["statusCode"] == 200
    body = json.loads(second["body"])
    assert body["outcome"] == "duplicate"
    assert body["runner"] == json.loads(first["body"])["runner"]
    one_runner_for(world, job_id)
    assert world.metrics.total("DuplicateDeliveries") == 1


def approval_sequence(world: World) -> tuple[int, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """GitHub's real sequence for a job behind an environment: queued (status waiting), waiting,
    then queued again once approved. Labels changed to ours, repository to our scope."""
    first = fixture_json("github/webhooks/workflow_job.queued.with-deployment.json")
    waiting = fixture_json("github/webhooks/workflow_job.waiting.json")
    job_id = first["workflow_job"]["id"]
    assert waiting["workflow_job"]["id"] == job_id
    assert first["workflow_job"]["status"] == "waiting"
    for payload in (first, waiting):
        retarget_repository(payload, "octo-org/octo-repo")
        payload["workflow_job"]["labels"] = list(OUR_LABELS)
    approved = json.loads(json.dumps(first))
    approved["workflow_job"]["status"] = "queued"
    return job_id, first, waiting, approved


def test_a_job_waiting_for_approval_gets_its_runner_only_when_approved(world: World) -> None:
    job_id, first, waiting, approved = approval_sequence(world)
    assert json.loads(world.webhook("workflow_job", first)["body"])["outcome"] == "waiting"
    assert json.loads(world.webhook("workflow_job", waiting)["body"])["outcome"] == "waiting"
    assert world.runner_items() == [] and world.tasks() == []  # nothing bills during the approval
    assert world.metrics.total("JobsWaitingForApproval") == 2
    world.clock.advance(world.settings.waiting_for_job_timeout_seconds + 3600)  # reviewers take time
    assert json.loads(world.webhook("workflow_job", approved)["body"])["outcome"] == "accepted"
    one_runner_for(world, job_id)
    record = world.record_for_job(job_id)
    assert record is not None and record.status is RunnerStatus.STARTING and record.task_arn


def test_a_late_waiting_delivery_keeps_the_runner_of_an_approved_job(world: World) -> None:
    """Deliveries out of order: the approved ``queued`` arrives first, then the ``waiting`` sent
    before it. Was: the runner was retired, and GitHub sends no further ``queued``: the job waited
    for the reconciliation. Now GitHub is asked: the job is queued, so the runner stays."""
    job = world.sim.queue_job("octo-org/octo-repo", list(OUR_LABELS), awaiting_approval=True)
    waiting = world.sim.payload(job, "waiting")
    world.sim.approve(job)
    approved = world.sim.payload(job, "queued")
    assert json.loads(world.webhook("workflow_job", approved)["body"])["outcome"] == "accepted"
    first = world.record_for_job(job.id)
    assert first is not None and first.task_arn
    asked = len(world.github.calls_to("GET", f"/actions/jobs/{job.id}"))
    body = json.loads(world.webhook("workflow_job", waiting)["body"])
    assert body["outcome"] == "waiting" and "late delivery" in body["detail"]
    assert len(world.github.calls_to("GET", f"/actions/jobs/{job.id}")) == asked + 1
    kept = world.record(first.runner_name)
    assert kept.status is RunnerStatus.STARTING and not kept.terminal
    assert world.task(first.task_arn)["desiredStatus"] == "RUNNING"


def test_a_waiting_delivery_keeps_the_runner_when_github_cannot_say_whether_the_job_waits(
    world: World,
) -> None:
    """As when a runner is retired for any other reason: a runner is not ended on a guess; the
    janitor asks GitHub again at its timeout."""
    job = world.sim.queue_job("octo-org/octo-repo", list(OUR_LABELS), awaiting_approval=True)
    waiting = world.sim.payload(job, "waiting")
    world.sim.approve(job)
    assert (
        json.loads(world.webhook("workflow_job", world.sim.payload(job, "queued"))["body"])["outcome"]
        == "accepted"
    )
    first = world.record_for_job(job.id)
    assert first is not None and first.task_arn
    world.github.faults.set_rate(1.0, [server_error(502)], operations=["actions/get-job-for-workflow-run"])
    body = json.loads(world.webhook("workflow_job", waiting)["body"])
    assert body["outcome"] == "waiting" and "GitHub could not say" in body["detail"]
    assert not world.record(first.runner_name).terminal
    assert world.task(first.task_arn)["desiredStatus"] == "RUNNING"


def test_a_runner_whose_job_waits_on_github_is_retired_and_the_approved_job_gets_a_new_one(
    world: World,
) -> None:
    """A runner exists while GitHub holds its job for a reviewer: the ``waiting`` delivery retires
    it (no task bills through a long approval) and the approved ``queued`` gets a new one."""
    job = world.sim.queue_job("octo-org/octo-repo", list(OUR_LABELS), awaiting_approval=True)
    early = world.sim.payload(job, "queued")
    early["workflow_job"]["status"] = "queued"  # as if queued before the protection rule applied
    assert json.loads(world.webhook("workflow_job", early)["body"])["outcome"] == "accepted"
    first = world.record_for_job(job.id)
    assert first is not None and first.task_arn
    assert (
        json.loads(world.webhook("workflow_job", world.sim.payload(job, "waiting"))["body"])["outcome"]
        == "waiting"
    )
    retired = world.record(first.runner_name)
    assert retired.status is RunnerStatus.OFFLINE and "approval" in retired.status_reason
    assert world.task(first.task_arn)["desiredStatus"] == "STOPPED"
    assert world.assert_counter_matches_slots() == 0
    world.sim.approve(job)
    again = json.loads(world.webhook("workflow_job", world.sim.payload(job, "queued"))["body"])
    assert again["outcome"] == "accepted" and again["runner"] != first.runner_name
    successor = world.record(again["runner"])
    assert successor.replaces == first.runner_name and successor.task_arn  # GitHub: still queued


def test_two_jobs_get_two_runners(world: World) -> None:
    a = world.queue_runner()
    b = world.queue_runner()
    assert a.runner_name != b.runner_name and a.task_arn != b.task_arn
    assert len(world.calls.of("ecs.RunTask")) == 2


def test_a_redelivery_after_the_job_ran_does_not_launch_again(world: World) -> None:
    record = world.queue_runner()
    world.task_running(record)
    world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)
    world.task_stopped(record)
    assert world.record(record.runner_name).status is RunnerStatus.OFFLINE
    again = world.webhook("workflow_job", job_payload("queued", job_id=record.job_id))
    assert json.loads(again["body"])["outcome"] == "duplicate"
    assert len(world.calls.of("ecs.RunTask")) == 1


def test_a_redelivery_after_the_runner_was_relaunched_is_a_duplicate(world: World) -> None:
    job = world.sim.queue_job("octo-org/octo-repo", list(OUR_LABELS))
    world.webhook("workflow_job", world.sim.payload(job, "queued"))
    record = world.record_for_job(job.id)
    assert record is not None
    world.task_stopped(record, exit_code=1, stop_code="TaskFailedToStart")
    successor = world.record_for_job(job.id)
    assert successor is not None and successor.replaces == record.runner_name and successor.task_arn
    again = json.loads(world.webhook("workflow_job", world.sim.payload(job, "queued"))["body"])
    assert again["outcome"] == "duplicate" and again["runner"] == successor.runner_name
    assert len(world.calls.of("ecs.RunTask")) == 2
