"""No job left behind (issue 13): while GitHub holds a job of ours queued, a live runner that can
take it exists or is on its way, unless a configuration reason refused it (and says so).

One test per path by which jobs were lost: a task dying before its runner took the job, environment
approvals (tests/lifecycle/test_lifecycle_queued_dedup.py), lost webhooks, lost ECS events, a wedged
image build lock, credential rotation (tests/lifecycle/test_lifecycle_launch_failures.py and the
webhook secret here), a 422 from generate-jitconfig and a refusal fixed by the operator.
"""

from __future__ import annotations

import json
from datetime import timedelta

from ecsrunner_core.domain.classes import DEFAULT_CLASS_SIZES, ClassSizes
from ecsrunner_core.domain.images import ImageRecord, ImageState
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.janitor import run_janitor
from ecsrunner_core.usecases.launch import retry_delay
from ecsrunner_core.webhook import sign
from ecsrunner_sandbox.github_faults import Fault, FaultKind

from tests.lifecycle.support import JIT_OPERATIONS, OUR_LABELS, REPO, MakeWorld, World, job_payload


def body(response: dict[str, object]) -> dict[str, object]:
    return json.loads(str(response["body"]))


def runners_of(world: World, job_id: int) -> list[str]:
    return [item["runner_name"] for item in world.runner_items() if item["job_id"] == job_id]


# --- 1. a task that dies before its runner takes the job ------------------------------------------


def test_a_spot_interruption_before_the_job_relaunches_it_on_demand(world: World) -> None:
    first = world.queue_on_github()
    world.task_running(first)
    response = world.task_stopped(
        first, stop_code="SpotInterruption", stopped_reason="Your Spot Task was interrupted.", exit_code=143
    )
    assert response["outcome"] == "failed" and "relaunched as" in response["detail"]
    second = world.record_for_job(first.job_id)
    assert second is not None and second.runner_name != first.runner_name
    assert second.replaces == first.runner_name and second.relaunches == 1 and second.on_demand
    assert second.task_arn and second.status is RunnerStatus.STARTING
    (_, relaunch) = world.calls.of("ecs.RunTask")
    assert relaunch.params["launchType"] == "FARGATE" and "capacityProviderStrategy" not in relaunch.params
    assert world.metrics.total("RunnersRelaunched", cause="spot") == 1
    assert world.assert_counter_matches_slots() == 1


def test_an_image_pull_failure_relaunches_and_later_relaunches_back_off(world: World) -> None:
    first = world.queue_on_github()
    reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    world.task_stopped(first, stop_code="TaskFailedToStart", stopped_reason=reason, exit_code=None)
    second = world.record_for_job(first.job_id)
    assert second is not None and second.task_arn and second.relaunches == 1
    world.task_stopped(second, stop_code="TaskFailedToStart", stopped_reason=reason, exit_code=None)
    third = world.record_for_job(first.job_id)
    assert third is not None and third.relaunches == 2 and third.task_arn is None  # 30 s of backoff
    assert third.next_attempt_at == world.clock.now() + timedelta(seconds=30)
    world.clock.advance(30)
    run_janitor(world.deps())
    assert world.record(third.runner_name).task_arn


def test_the_relaunch_budget_ends_with_a_visible_reason(make_world: MakeWorld) -> None:
    world = make_world(max_job_relaunches=1)
    first = world.queue_on_github()
    world.task_stopped(first, stop_code="TaskFailedToStart", stopped_reason="ENI timeout", exit_code=None)
    second = world.record_for_job(first.job_id)
    assert second is not None and second.task_arn
    world.task_stopped(second, stop_code="TaskFailedToStart", stopped_reason="ENI timeout", exit_code=None)
    last = world.record_for_job(first.job_id)
    assert last is not None and last.runner_name == second.runner_name
    assert last.status is RunnerStatus.FAILED and last.refusal == "relaunches"
    assert world.metrics.total("JobsAbandoned", reason="relaunches") == 1
    # Reconciliation leaves a given-up job alone: no runner churn every five minutes.
    report = run_janitor(world.deps())
    assert report.jobs_reconciled == 0 and len(runners_of(world, first.job_id)) == 2


def test_a_relaunch_for_a_job_that_ran_elsewhere_starts_no_task(world: World) -> None:
    first = world.queue_on_github()
    job = world.github.state.jobs[first.job_id]
    world.sim.complete_job(job.id, "cancelled")
    world.task_stopped(first, stop_code="TaskFailedToStart", stopped_reason="x", exit_code=None)
    successor = world.record_for_job(first.job_id)
    assert successor is not None and successor.status is RunnerStatus.OFFLINE
    assert "completed on GitHub: no launch" in successor.status_reason
    assert len(world.calls.of("ecs.RunTask")) == 1 and world.assert_counter_matches_slots() == 0


def test_the_starting_timeout_relaunches_the_job(world: World) -> None:
    first = world.queue_on_github()
    world.clock.advance(world.settings.starting_timeout_seconds + 1)
    report = run_janitor(world.deps())
    assert report.timed_out == 1 and report.relaunched_jobs == 1
    second = world.record_for_job(first.job_id)
    assert second is not None and second.replaces == first.runner_name and second.task_arn


def test_the_same_labels_swap_whose_left_over_runner_is_gone_gets_a_new_runner(world: World) -> None:
    """Runner A (launched for job A) takes job B (same labels); B's runner died before: job A gets a
    new runner instead of waiting for a left-over runner that no longer exists."""
    runner_a = world.queue_on_github()
    runner_b = world.queue_on_github()
    world.github.state.jobs[runner_b.job_id].status = "in_progress"  # B's job is taken by runner A
    world.task_stopped(runner_b, stop_code="TaskFailedToStart", stopped_reason="x", exit_code=None)
    assert world.record(runner_b.runner_name).status is RunnerStatus.FAILED
    assert world.record_for_job(runner_b.job_id) is not None
    world.job_event("in_progress", job_id=runner_b.job_id, runner_name=runner_a.runner_name)
    successor = world.record_for_job(runner_a.job_id)
    assert successor is not None and successor.replaces == runner_a.runner_name and successor.task_arn


# --- 3. lost webhooks -----------------------------------------------------------------------------


def test_a_queued_job_whose_webhook_never_arrived_is_found_by_the_janitor(world: World) -> None:
    job = world.sim.queue_job(REPO, list(OUR_LABELS))  # GitHub queued it; its delivery was lost
    foreign = world.sim.queue_job(REPO, ["ubuntu-latest"])  # not ours: left alone
    report = run_janitor(world.deps())
    assert report.jobs_reconciled == 1 and report.errors == []
    record = world.record_for_job(job.id)
    assert record is not None and record.task_arn and "(found on GitHub)" in record.status_reason
    assert world.record_for_job(foreign.id) is None
    assert world.metrics.total("JobsReconciled") == 1
    assert report.github_requests <= world.settings.reconcile_github_requests
    # The next run finds it covered: nothing more.
    assert run_janitor(world.deps()).jobs_reconciled == 0 and len(runners_of(world, job.id)) == 1


def test_reconciliation_stays_within_its_github_request_budget(make_world: MakeWorld) -> None:
    world = make_world(reconcile_github_requests=3)
    for _ in range(5):
        world.sim.queue_job(REPO, list(OUR_LABELS))  # five runs, one job each
    report = run_janitor(world.deps())
    assert report.github_requests == 3
    assert report.jobs_reconciled == 2  # the runs page, then two runs' jobs pages
    assert any("budget" in error for error in report.errors)


def test_reconciliation_can_be_turned_off(make_world: MakeWorld) -> None:
    world = make_world(reconcile_with_github=False)
    world.sim.queue_job(REPO, list(OUR_LABELS))
    report = run_janitor(world.deps())
    assert report.jobs_reconciled == 0 and report.github_requests == 0
    assert not any("/actions/runs" in path for _, path, _ in world.github.calls)


def test_a_failed_delivery_is_redelivered_once_by_the_janitor(world: World) -> None:
    hook = world.connect_repository_hook()
    hook.drop_next()  # GitHub records a failure; the control plane never saw the delivery
    job = world.sim.queue_job(REPO, list(OUR_LABELS))
    world.github.hooks.send("workflow_job", world.sim.payload(job, "queued"))
    assert world.record_for_job(job.id) is None
    report = run_janitor(world.deps())
    assert report.webhooks_redelivered == 1 and report.jobs_reconciled == 0
    record = world.record_for_job(job.id)
    assert record is not None and record.task_arn and "(found on GitHub)" not in record.status_reason
    redelivery = hook.newest_first()[0]
    assert redelivery.redelivery and redelivery.succeeded
    # GitHub keeps listing the first failure: it is not redelivered again.
    assert run_janitor(world.deps()).webhooks_redelivered == 0


# --- 4. lost ECS events ---------------------------------------------------------------------------


def test_a_stopped_event_that_never_arrived_is_applied_by_the_janitor(world: World) -> None:
    ran = world.queue_on_github()
    world.task_running(ran)
    world.job_event("in_progress", job_id=ran.job_id, runner_name=ran.runner_name)
    died = world.queue_on_github()
    for record in (ran, died):  # both tasks stop; neither STOPPED event arrives
        world.client("ecs").stop_task(cluster=world.settings.cluster_arn, task=record.task_arn, reason="gone")
    report = run_janitor(world.deps())
    assert report.tasks_reconciled == 2
    assert world.record(ran.runner_name).status is RunnerStatus.OFFLINE  # it ran its job
    assert world.record(died.runner_name).status is RunnerStatus.FAILED
    successor = world.record_for_job(died.job_id)
    assert successor is not None and successor.replaces == died.runner_name and successor.task_arn
    assert world.assert_counter_matches_slots() == 1  # only the successor holds a slot


# --- 5. a wedged image build lock -----------------------------------------------------------------


def test_a_build_lock_without_a_build_is_taken_over(world: World) -> None:
    tag = world.image_tag("ubuntu:24.04")
    now = world.clock.now()
    # A crash between taking the lock and StartBuild: BUILDING, no build id.
    world.store().lock_build(
        ImageRecord(tag, "docker.io/library/ubuntu:24.04", "x86_64", ImageState.BUILDING, now, now),
        retry_failed_before=now,
    )
    record = world.queue_on_github(("self-hosted", "image:ubuntu:24.04"))
    assert record.status is RunnerStatus.IMAGE_CREATING
    assert world.calls.of("codebuild.StartBuild") == []  # the lock looked held
    world.clock.advance(301)
    report = run_janitor(world.deps())
    assert report.build_locks_recovered == 1
    assert len(world.calls.of("codebuild.StartBuild")) == 1
    image = world.store().get_image(tag)
    assert image is not None and image.state is ImageState.BUILDING and image.build_id


# --- 6. webhook secret rotation -------------------------------------------------------------------


def test_a_rotated_webhook_secret_works_within_seconds(world: World) -> None:
    world.queue_runner()  # the container has read (and cached) the old secret
    rotated = "rotated-webhook-secret"
    world.client("secretsmanager").put_secret_value(
        SecretId=world.settings.webhook_secret_arn, SecretString=rotated
    )
    payload = json.dumps(job_payload("queued", job_id=world.next_job_id())).encode()
    headers = {"X-GitHub-Event": "workflow_job", "X-Hub-Signature-256": sign(rotated.encode(), payload)}
    assert world.deliver_to_control_plane("workflow_job", payload, headers) == 200
    assert world.metrics.total("CredentialsReloaded", secret="webhook") == 1
    reads = len(world.calls.of("secretsmanager.GetSecretValue"))
    forged = {"X-GitHub-Event": "workflow_job", "X-Hub-Signature-256": sign(b"forged", payload)}
    assert world.deliver_to_control_plane("workflow_job", payload, forged) == 401
    assert len(world.calls.of("secretsmanager.GetSecretValue")) == reads  # at most every 30 s


# --- 7. 422 from generate-jitconfig, and a refusal the operator fixed ---------------------------


def test_a_422_from_generate_jitconfig_is_retried(world: World) -> None:
    spammed = Fault(FaultKind.SERVER_ERROR, 422)
    world.github.faults.script(spammed, operations=JIT_OPERATIONS)
    record = world.queue_on_github()
    assert record.status is RunnerStatus.STARTING and record.attempts == 1 and record.task_arn is None
    world.clock.advance(retry_delay(1).total_seconds())
    run_janitor(world.deps())
    assert world.record(record.runner_name).task_arn


def test_a_job_refused_for_its_class_gets_a_runner_once_the_class_exists(world: World) -> None:
    labels = ("self-hosted", "class:xlarge")
    job = world.sim.queue_job(REPO, list(labels))
    first = body(world.webhook("workflow_job", world.sim.payload(job, "queued")))
    assert first["outcome"] == "refused"
    refused = world.record_for_job(job.id)
    assert refused is not None and refused.refusal == "labels"
    assert body(world.webhook("workflow_job", world.sim.payload(job, "queued")))["outcome"] == "duplicate"
    # The operator adds the class (the control plane reads class sizes every few minutes).
    sizes = DEFAULT_CLASS_SIZES.to_json()
    sizes["classes"]["xlarge"] = dict(sizes["classes"]["large"])
    world.client("ssm").put_parameter(
        Name=world.settings.class_sizes_param, Value=json.dumps(sizes), Overwrite=True
    )
    world.services.classes._cache._values.clear()  # the 5-minute cache has run out
    assert ClassSizes.from_json(sizes).get("xlarge") is not None
    report = run_janitor(world.deps())  # reconciliation: GitHub still holds it queued
    assert report.jobs_reconciled == 1
    served = world.record_for_job(job.id)
    assert served is not None and served.replaces == refused.runner_name and served.task_arn
