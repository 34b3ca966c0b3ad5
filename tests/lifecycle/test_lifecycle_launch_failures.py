"""queued step 6: any failure after the record exists leaves a record the janitor retries (bounded
attempts, then FAILED with the last error). No accepted job is lost, and no job gets two tasks."""

from __future__ import annotations

from datetime import timedelta

from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.context import Deadline
from ecsrunner_core.usecases.janitor import run_janitor
from ecsrunner_core.usecases.launch import retry_delay
from ecsrunner_core.usecases.records import LAUNCH_LEASE
from ecsrunner_sandbox.github_faults import secondary_limit, server_error

from tests.lifecycle.support import (
    JIT_OPERATIONS,
    REPO,
    Fault,
    MakeWorld,
    RecordingWaker,
    SimulatedCrash,
    World,
    aws_response,
    client_error,
    crash,
    job_payload,
)


def github_down(world: World) -> None:
    world.github.faults.set_rate(1.0, [server_error(502)], operations=JIT_OPERATIONS)


def test_github_failing_beyond_the_retry_budget_leaves_a_retriable_record(world: World) -> None:
    github_down(world)
    job_id, response = world.queue()
    assert response["statusCode"] == 200
    record = world.record_for_job(job_id)
    assert record is not None and record.status is RunnerStatus.STARTING
    assert record.attempts == 1 and record.task_arn is None and record.holds_slot
    assert record.last_error and "GitHubUnavailable" in record.last_error and "502" in record.last_error
    assert record.next_attempt_at == world.clock.now() + retry_delay(1)
    assert world.calls.of("ecs.RunTask") == [] and world.calls.of("s3.PutObject") == []
    assert len(world.github.faults.injected) > 1  # the client retried inside its budget
    assert world.github_time.sleeps  # ...with backoff (on the fake timeline)

    world.clock.advance(retry_delay(1).total_seconds() - 1)
    assert run_janitor(world.deps()).relaunched == 0  # still backing off
    world.github.faults.clear()
    world.clock.advance(2)
    assert run_janitor(world.deps()).relaunched == 1
    relaunched = world.record(record.runner_name)
    assert relaunched.task_arn and relaunched.status is RunnerStatus.STARTING
    assert relaunched.last_error is None and relaunched.next_attempt_at is None
    assert len(world.calls.of("ecs.RunTask")) == 1
    assert world.assert_counter_matches_slots() == 1


def test_past_the_last_attempt_a_launch_asks_github_and_retries_while_the_job_is_queued(
    make_world: MakeWorld,
) -> None:
    """Transient failures never end a job's chances while GitHub holds it queued: past
    max_launch_attempts each retry asks GitHub first, with backoff capped at 10 minutes, until the
    launch wait limit (GitHub's 24-hour queue limit by default)."""
    world = make_world(max_launch_attempts=3, launch_wait_timeout_seconds=3 * 3600)
    github_down(world)
    job = world.sim.queue_job(REPO, ["self-hosted", "linux"])
    assert world.webhook("workflow_job", world.sim.payload(job, "queued"))["statusCode"] == 200
    record = world.record_for_job(job.id)
    assert record is not None
    for attempt in range(1, 9):
        assert world.record(record.runner_name).attempts == attempt
        world.clock.advance(retry_delay(attempt).total_seconds())
        run_janitor(world.deps())
    retrying = world.record(record.runner_name)
    assert retrying.status is RunnerStatus.STARTING and retrying.attempts == 9
    assert retrying.verify_queued  # each retry now asks GitHub first
    assert retry_delay(9) == timedelta(seconds=600)  # capped
    job_reads = [c for c in world.github.calls if "/actions/jobs/" in c[1]]
    assert len(job_reads) >= 6
    assert world.calls.of("ecs.RunTask") == []
    # GitHub recovers: the next retry launches.
    world.github.faults.clear()
    world.clock.advance(600)
    run_janitor(world.deps())
    assert world.record(record.runner_name).task_arn


def test_a_launch_that_keeps_failing_ends_at_the_launch_wait_limit(make_world: MakeWorld) -> None:
    world = make_world(max_launch_attempts=2, launch_wait_timeout_seconds=1800)
    github_down(world)
    job = world.sim.queue_job(REPO, ["self-hosted", "linux"])
    world.webhook("workflow_job", world.sim.payload(job, "queued"))
    record = world.record_for_job(job.id)
    assert record is not None
    for _ in range(12):
        world.clock.advance(300)
        run_janitor(world.deps())
    failed = world.record(record.runner_name)
    assert failed.status is RunnerStatus.FAILED and failed.refusal == "queue-limit"
    assert "launch wait limit of 1800s" in failed.status_reason
    assert not failed.holds_slot and world.assert_counter_matches_slots() == 0
    assert world.metrics.total("JobsAbandoned", reason="queue-limit") >= 1


def test_a_retried_launch_of_a_job_that_ran_elsewhere_starts_no_task(make_world: MakeWorld) -> None:
    world = make_world(max_launch_attempts=1)
    github_down(world)
    job = world.sim.queue_job(REPO, ["self-hosted", "linux"])
    world.webhook("workflow_job", world.sim.payload(job, "queued"))
    record = world.record_for_job(job.id)
    assert record is not None and record.task_arn is None
    world.sim.complete_job(job.id, "cancelled")  # GitHub no longer holds it queued
    world.github.faults.clear()
    world.clock.advance(retry_delay(1).total_seconds())
    run_janitor(world.deps())
    ended = world.record(record.runner_name)
    assert ended.status is RunnerStatus.OFFLINE and "completed on GitHub: no launch" in ended.status_reason
    assert world.calls.of("ecs.RunTask") == [] and world.assert_counter_matches_slots() == 0


def test_runtask_failures_are_retried_and_the_registered_name_is_replaced(world: World) -> None:
    reason = (
        "Capacity is unavailable at this time. Please try again later or in a different availability zone"
    )
    failure = {"arn": world.settings.cluster_arn, "reason": reason}
    world.calls.faults.append(
        Fault("ecs.RunTask", lambda p: aws_response({"tasks": [], "failures": [failure]}))
    )
    record = world.queue_runner()
    assert record.status is RunnerStatus.STARTING and record.task_arn is None and record.attempts == 1
    assert record.last_error and reason in record.last_error
    assert world.tasks() == []
    first_registration = record.github_runner_id
    assert first_registration in world.github.state.runners  # registered, but its config never used

    world.clock.advance(retry_delay(1).total_seconds())
    assert run_janitor(world.deps()).relaunched == 1
    launched = world.record(record.runner_name)
    assert launched.task_arn and len(world.tasks()) == 1
    # The name was taken by the first attempt: 409, then that registration is deleted and replaced.
    jit_calls = [(m, status) for m, path, status in world.github.calls if "runners" in path]
    relaunch, sweep = jit_calls[:5], jit_calls[5:]
    assert relaunch == [("POST", 201), ("POST", 409), ("GET", 200), ("DELETE", 204), ("POST", 201)]
    assert sweep == [("GET", 200)]  # the janitor's orphan sweep lists the runners
    assert first_registration not in world.github.state.runners
    assert launched.github_runner_id != first_registration
    assert launched.github_runner_id in world.github.state.runners
    # The environment file holds the config of the new registration.
    assert world.sim.runner_online(world.jit_config(record.runner_name)).id == launched.github_runner_id


def test_an_invalid_runtask_parameter_fails_the_runner_and_cleans_up(world: World) -> None:
    message = "Task definition does not support launch_type FARGATE."
    world.calls.faults.append(Fault("ecs.RunTask", client_error("InvalidParameterException", message)))
    record = world.queue_runner()
    assert record.status is RunnerStatus.FAILED and record.attempts == 1
    assert (
        record.status_reason == f"launch refused: LaunchError: RunTask InvalidParameterException: {message}"
    )
    assert record.refusal == "launch"  # a configuration problem: visible, not retried
    assert world.jit_object(record.runner_name) is None
    assert world.github.state.runners == {}  # the registration is removed
    assert world.assert_counter_matches_slots() == 0


def test_a_crash_after_runtask_is_adopted_by_the_janitor_without_a_second_task(world: World) -> None:
    """The invocation dies after RunTask, before the task ARN is written (a Lambda timeout)."""
    world.calls.faults.append(Fault("dynamodb.PutItem", crash, when=lambda p: "task_arn" in p["Item"]))
    job_id = world.next_job_id()
    try:
        world.webhook("workflow_job", job_payload("queued", job_id=job_id))
    except SimulatedCrash:
        pass
    else:
        raise AssertionError("the fault did not fire")
    orphaned = world.record_for_job(job_id)
    assert orphaned is not None and orphaned.status is RunnerStatus.STARTING and orphaned.task_arn is None
    (task,) = world.tasks()
    assert orphaned.next_attempt_at is not None

    world.clock.advance(LAUNCH_LEASE.total_seconds() - 1)
    run_janitor(world.deps())
    assert world.record(orphaned.runner_name).task_arn is None  # the lease still holds

    world.clock.advance(2)
    report = run_janitor(world.deps())
    adopted = world.record(orphaned.runner_name)
    assert adopted.task_arn == task["taskArn"] and report.relaunched == 1
    assert len(world.calls.of("ecs.RunTask")) == 1 and len(world.tasks()) == 1
    assert len(world.github.calls_to("POST", "/generate-jitconfig")) == 1
    assert world.assert_counter_matches_slots() == 1


def test_a_failed_write_after_runtask_is_retried_by_adopting_the_task(world: World) -> None:
    world.calls.faults.append(
        Fault(
            "dynamodb.PutItem",
            client_error(
                "ProvisionedThroughputExceededException", "The level of configured provisioned throughput"
            ),
            when=lambda p: "task_arn" in p["Item"],
        )
    )
    record = world.queue_runner()
    assert record.task_arn is None and record.attempts == 1
    (task,) = world.tasks()
    world.clock.advance(retry_delay(1).total_seconds())
    run_janitor(world.deps())
    assert world.record(record.runner_name).task_arn == task["taskArn"]
    assert len(world.calls.of("ecs.RunTask")) == 1


def test_out_of_time_in_the_webhook_the_launch_is_left_to_the_janitor(world: World) -> None:
    expired = Deadline(at=0.0, monotonic=lambda: 1.0)
    job_id = world.next_job_id()
    response = world.webhook("workflow_job", job_payload("queued", job_id=job_id), deadline=expired)
    assert response["statusCode"] == 200
    record = world.record_for_job(job_id)
    assert record is not None and record.status is RunnerStatus.STARTING
    assert record.task_arn is None and record.attempts == 0 and record.next_attempt_at is None
    assert world.github.calls == [] and world.calls.of("ecs.RunTask") == []
    assert run_janitor(world.deps()).relaunched == 1
    assert world.record(record.runner_name).task_arn


def test_a_failed_environment_file_write_is_retried(world: World) -> None:
    world.calls.faults.append(
        Fault("s3.PutObject", client_error("InternalError", "We encountered an internal error", 500))
    )
    record = world.queue_runner()
    assert record.task_arn is None and record.attempts == 1
    assert world.calls.of("ecs.RunTask") == []
    world.clock.advance(retry_delay(1).total_seconds())
    run_janitor(world.deps())
    assert world.record(record.runner_name).task_arn


def test_a_secondary_rate_limit_pauses_github_calls_without_spending_attempts(world: World) -> None:
    world.github.faults.script(secondary_limit(retry_after=90), operations=JIT_OPERATIONS)
    record = world.queue_runner()
    assert record.status is RunnerStatus.STARTING and record.attempts == 0
    assert record.last_error and record.last_error.startswith("GitHubRateLimited")
    assert world.github_time.sleeps == []  # 90 s does not fit in the 5 s budget: no sleeping
    resume = world.clock.now() + timedelta(seconds=90)
    assert record.next_attempt_at == resume
    jit_calls = len(world.github.calls)

    second = world.queue_runner()  # during the pause: GitHub is not called at all
    assert len(world.github.calls) == jit_calls
    assert second.attempts == 0 and second.next_attempt_at == resume

    report = run_janitor(world.deps())  # no deadline to wait in: the launches wait for the next run
    assert report.relaunched == 0 and any("rate limit" in e for e in report.errors)
    world.clock.advance(90)
    assert run_janitor(world.deps()).relaunched == 2
    assert world.record(record.runner_name).task_arn and world.record(second.runner_name).task_arn


def test_the_janitor_sleeps_through_a_pause_of_a_few_seconds_only(world: World) -> None:
    world.github.faults.script(secondary_limit(retry_after=30), operations=JIT_OPERATIONS)
    record = world.queue_runner()
    assert record.task_arn is None and record.attempts == 0
    world.clock.advance(27)
    started = world.clock.now()
    report = run_janitor(world.deps(), Deadline.after(300))
    assert report.relaunched == 1 and report.errors == []
    assert world.clock.now() - started >= timedelta(seconds=3)  # it slept the rest (fake clock)
    assert world.record(record.runner_name).task_arn


def test_a_long_pause_wakes_the_janitor_when_it_ends_instead_of_sleeping(world: World) -> None:
    wakes = RecordingWaker()
    world.services.waker = wakes  # type: ignore[assignment]
    world.github.faults.script(secondary_limit(retry_after=120), operations=JIT_OPERATIONS)
    record = world.queue_runner()
    until = world.clock.now() + timedelta(seconds=120)
    assert wakes.at == [until]  # the one-time schedule for the pause's end
    started = world.clock.now()
    report = run_janitor(world.deps(), Deadline.after(300))
    assert world.clock.now() == started  # no sleeping through a long pause
    assert report.relaunched == 0
    # The first control-plane invocation after the pause wakes the janitor at once (once).
    world.clock.advance(121)
    other = world.queue_runner()
    assert other.task_arn
    assert wakes.now == 1
    world.queue_runner()
    assert wakes.now == 1
    from ecsrunner_core.usecases.janitor import resume_launches

    assert resume_launches(world.deps()).relaunched == 1
    assert world.record(record.runner_name).task_arn


def test_a_rotated_pat_is_read_again_on_401_and_the_launch_succeeds(world: World) -> None:
    world.use_secret_credentials()
    assert world.queue_runner().task_arn  # a warm container with the old token
    rotated = "ghp_rotated000000000000000000000000000000"
    world.github.pat = rotated  # GitHub: the old token is revoked
    world.client("secretsmanager").put_secret_value(
        SecretId=world.settings.github_credentials_secret_arn,
        SecretString=f'{{"type": "pat", "token": "{rotated}"}}',
    )
    world.clock.advance(60)
    record = world.queue_runner()
    assert record.task_arn and record.attempts == 0
    assert world.metrics.total("CredentialsReloaded", secret="github") == 1


def test_wrong_credentials_are_retried_and_read_again_at_most_every_30_seconds(world: World) -> None:
    world.use_secret_credentials()
    world.github.pat = "ghp_somethingelse0000000000000000000000000"
    record = world.queue_runner()
    assert record.status is RunnerStatus.STARTING and record.attempts == 1
    assert record.last_error and "GitHubAuthError" in record.last_error and "401" in record.last_error
    reads = len(world.calls.of("secretsmanager.GetSecretValue"))
    world.queue_runner()  # within 30 s: the secret is not read again
    assert len(world.calls.of("secretsmanager.GetSecretValue")) == reads
    assert world.calls.of("ecs.RunTask") == []


def test_a_transient_launch_failure_wakes_the_janitor_when_its_backoff_ends(world: World) -> None:
    """Was: the retry waited for the next scheduled janitor run (5 minutes by default), so one
    failed attempt in a burst's last round held the drain's end back by minutes."""
    wakes = RecordingWaker()
    world.services.waker = wakes  # type: ignore[assignment]
    github_down(world)
    record = world.queue_runner()
    due = world.clock.now() + retry_delay(1)
    assert record.next_attempt_at == due and record.task_arn is None
    assert wakes.at == [due]  # set by the failed attempt itself
    world.github.faults.clear()
    world.clock.advance(retry_delay(1).total_seconds())
    from ecsrunner_core.usecases.janitor import resume_launches

    assert resume_launches(world.deps()).relaunched == 1  # what the wake-up runs
    assert world.record(record.runner_name).task_arn
    assert wakes.at == [due]  # nothing left waiting: no further wake-up


def test_a_failing_read_of_the_next_due_launch_does_not_fail_the_delivery(world: World) -> None:
    """Was: the wake-up's Query on the waiting index was not guarded, so a DynamoDB error there
    escaped the launch after its failure was recorded and the delivery answered 500."""
    world.services.waker = RecordingWaker()  # type: ignore[assignment]
    github_down(world)
    world.calls.faults.append(
        Fault(
            "dynamodb.Query",
            client_error("ProvisionedThroughputExceededException", "slow down"),
            lambda params: params.get("IndexName") == "waiting-index",
        )
    )
    record = world.queue_runner()  # asserts the 200
    assert world.calls.faults[0].fired == 1
    assert record.attempts == 1 and record.next_attempt_at is not None


def test_a_janitor_run_wakes_itself_for_what_it_left_waiting_but_never_inside_a_pause(world: World) -> None:
    wakes = RecordingWaker()
    github_down(world)
    record = world.queue_runner()  # failed once, without a waker: only the janitor can arm one
    assert record.attempts == 1
    world.services.waker = wakes  # type: ignore[assignment]
    world.clock.advance(retry_delay(1).total_seconds())
    report = run_janitor(world.deps())  # fails again: backoff of the second attempt
    assert report.errors == [] and world.record(record.runner_name).attempts == 2
    assert wakes.at[-1] == world.clock.now() + retry_delay(2)

    # A GitHub pause that ends after the retry is due: the wake-up waits for the pause.
    world.github.faults.clear()
    world.github.faults.script(secondary_limit(retry_after=600), operations=JIT_OPERATIONS)
    world.queue_runner()
    pause_end = world.clock.now() + timedelta(seconds=600)
    assert wakes.at[-1] == pause_end
    run_janitor(world.deps())
    assert wakes.at[-1] == pause_end
    armed = len(wakes.at)
    world.clock.advance(600)
    assert run_janitor(world.deps()).relaunched == 2
    assert len(wakes.at) == armed  # nothing left waiting: no further wake-up
