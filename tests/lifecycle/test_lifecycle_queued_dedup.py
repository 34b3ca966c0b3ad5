"""queued step 2: the runner record is created first, once per job, whatever GitHub redelivers."""

from __future__ import annotations

import json

from ecsrunner_core.domain.status import RunnerStatus

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


def test_queued_waiting_queued_of_an_environment_protected_job_launches_one_runner(world: World) -> None:
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

    assert json.loads(world.webhook("workflow_job", first)["body"])["outcome"] == "accepted"
    assert world.webhook("workflow_job", waiting)["statusCode"] == 202
    assert json.loads(world.webhook("workflow_job", approved)["body"])["outcome"] == "duplicate"
    one_runner_for(world, job_id)
    record = world.record_for_job(job_id)
    assert record is not None and record.status is RunnerStatus.STARTING


def test_two_jobs_get_two_runners(world: World) -> None:
    a = world.queue_runner()
    b = world.queue_runner()
    assert a.runner_name != b.runner_name and a.task_arn != b.task_arn
    assert len(world.calls.of("ecs.RunTask")) == 2


def test_a_redelivery_after_the_runner_ended_does_not_launch_again(world: World) -> None:
    record = world.queue_runner()
    world.task_running(record)
    world.task_stopped(record, exit_code=1, stop_code="EssentialContainerExited")
    assert world.record(record.runner_name).status is RunnerStatus.FAILED
    again = world.webhook("workflow_job", job_payload("queued", job_id=record.job_id))
    assert json.loads(again["body"])["outcome"] == "duplicate"
    assert len(world.calls.of("ecs.RunTask")) == 1
