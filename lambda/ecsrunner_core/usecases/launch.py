"""Launching a runner: capacity slot, GitHub check, image, JIT config, environment file, RunTask.

Every step is safe to repeat. A launch holds a lease (``next_attempt_at``) so that the janitor and
an event never launch the same runner at once; a launch that dies part-way (a Lambda timeout) leaves
the record STARTING with no task, and the janitor retries it when the lease ends.

The warm path (a record this invocation just created with its lease and slot, image cached) makes
one record write after RunTask and reads nothing: create transaction, S3 put, RunTask, one put.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..domain.classes import ClassSize
from ..domain.runner import RunnerRecord
from ..domain.status import RunnerStatus
from ..ports import (
    CapacityExceeded,
    GitHubError,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubRunnerExists,
    JitConfig,
    LaunchError,
    TaskRequest,
)
from .context import Deadline, Deps, log
from .errors import LaunchDeferred, PermanentLaunchError, describe_error
from .github_pause import github_paused_until, pause_github
from .images import refresh_task_definition, resolve_task_definition
from .records import LAUNCH_LEASE, annotate, move
from .wakeups import wake_for_next_launch

RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 600
JIT_ENV_VAR = "ACTIONS_RUNNER_INPUT_JITCONFIG"
TAG_PREFIX = "ecsrunner:"
_TAG_VALUE_UNSAFE = re.compile(r"[^\w .:/=+\-@]")


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS))


def client_token(runner_name: str, attempt: int, capacity: str) -> str:
    """Same runner, attempt and capacity -> same token, so a repeated RunTask starts no second task."""
    return hashlib.sha256(f"{runner_name}/{attempt}/{capacity}".encode()).hexdigest()[:64]


def task_tags(deps: Deps, record: RunnerRecord) -> dict[str, str]:
    values = {
        "deployment": deps.settings.name,
        "runner-name": record.runner_name,
        "job-id": str(record.job_id),
        "repository": record.repository,
        "run-url": record.run_url or "",
        "pool": record.pool or "",
    }
    return {
        TAG_PREFIX + key: _TAG_VALUE_UNSAFE.sub("_", value)[:256] for key, value in values.items() if value
    }


@dataclass
class _Attempt:
    """What one launch attempt learnt before it failed: written with the failure."""

    github_runner_id: int | None = None


def launch_runner(
    deps: Deps, runner_name: str, deadline: Deadline | None = None, *, current: RunnerRecord | None = None
) -> RunnerRecord | None:
    """Try to launch ``runner_name``; returns the record as left (None if it was not ours to launch).

    ``current`` is a record this invocation has just written with its launch lease (a new runner):
    it is launched without claiming it again.
    """
    claimed: RunnerRecord | None
    if current is not None and _leased_to_us(current, deps.clock.now()):
        claimed, earlier_attempt = current, False
    else:
        before, claimed = _claim(deps, runner_name)
        if before is None or claimed is None:
            return None
        earlier_attempt = before.attempts > 0 or before.next_attempt_at is not None
    attempt = _Attempt()
    try:
        return _launch(deps, claimed, deadline, attempt, earlier_attempt=earlier_attempt)
    except LaunchDeferred:
        deps.store.update(runner_name, annotate(deps.clock.now(), next_attempt_at=None))
    except PermanentLaunchError as exc:
        fail_runner(deps, runner_name, str(exc), refusal=exc.kind)
    except Exception as exc:  # any other failure is retried later: an accepted job is never dropped
        log.warning(
            "launch of %s failed: %s",
            runner_name,
            describe_error(exc),
            extra={"runner_name": runner_name},
            exc_info=not isinstance(exc, GitHubError | LaunchError),
        )
        if isinstance(exc, GitHubRateLimited):
            _defer(deps, runner_name, describe_error(exc), pause_github(deps, exc.retry_after), attempt)
            return deps.store.get(runner_name)
        # GitHub's errors are retried: 422 is also "the endpoint has been spammed", and bad credentials
        # may be rotated. A request ECS refused as invalid is a configuration problem.
        permanent = isinstance(exc, LaunchError) and not exc.transient
        _record_failure(deps, runner_name, describe_error(exc), transient=not permanent, attempt=attempt)
    return deps.store.get(runner_name)


def _leased_to_us(record: RunnerRecord, now: datetime) -> bool:
    return (
        record.status is RunnerStatus.STARTING
        and record.task_arn is None
        and record.next_attempt_at is not None
        and record.next_attempt_at > now
    )


def _claim(deps: Deps, runner_name: str) -> tuple[RunnerRecord | None, RunnerRecord | None]:
    now = deps.clock.now()

    def claim(record: RunnerRecord) -> RunnerRecord | None:
        if record.status is not RunnerStatus.STARTING or record.task_arn:
            return None
        if record.next_attempt_at is not None and record.next_attempt_at > now:
            return None
        return record.touch(now, next_attempt_at=now + LAUNCH_LEASE)

    return deps.store.update(runner_name, claim)


def _take_slot(deps: Deps, record: RunnerRecord) -> RunnerRecord | None:
    if record.holds_slot:
        return record
    now = deps.clock.now()

    def take(current: RunnerRecord) -> RunnerRecord | None:
        if current.terminal or current.holds_slot:
            return None
        return current.touch(now, holds_slot=True)

    try:
        _, taken = deps.store.update(record.runner_name, take, current=record)
    except CapacityExceeded:
        reason = f"waiting for capacity: {deps.settings.max_runners} runners active (max_runners)"
        # The status (and its reason) stays; why it has no task yet is the launch's last "error",
        # which recording the task clears.
        deps.store.update(record.runner_name, annotate(now, next_attempt_at=None, last_error=reason))
        deps.metrics.count("RunnersWaitingForCapacity")
        log.info("runner %s %s", record.runner_name, reason, extra={"runner_name": record.runner_name})
        return None
    return taken or deps.store.get(record.runner_name)


def _launch(
    deps: Deps, claimed: RunnerRecord, deadline: Deadline | None, attempt: _Attempt, *, earlier_attempt: bool
) -> RunnerRecord | None:
    name = claimed.runner_name
    record = _take_slot(deps, claimed)
    if record is None or record.terminal:
        return record
    size = deps.classes.load().get(record.class_name)
    if size is None:
        raise PermanentLaunchError(f"class {record.class_name!r} is no longer defined", kind="labels")

    if earlier_attempt:
        adopted = deps.launcher.find_task(name)
        if adopted is not None:
            log.info("runner %s: adopting task %s from an earlier attempt", name, adopted.task_arn)
            return _record_task(deps, record, adopted.task_arn, None)

    paused = github_paused_until(deps)
    if paused is not None:
        seconds = (paused - deps.clock.now()).total_seconds()
        raise GitHubRateLimited(f"GitHub calls paused until {paused.isoformat()}", retry_after=seconds)
    if record.verify_queued and not _job_still_queued(deps, record):
        return deps.store.get(name)
    task_definition = resolve_task_definition(deps, record)
    if task_definition is None:
        return deps.store.get(name)
    if deadline is not None and deadline.expired:
        raise LaunchDeferred

    jit = _jit_config(deps, record)
    attempt.github_runner_id = jit.runner_id
    env_file = deps.jit.put(name, f"{JIT_ENV_VAR}={jit.encoded_jit_config}\n")
    task_arn = _run_task(deps, record, size, task_definition, env_file)
    return _record_task(deps, record, task_arn, jit.runner_id)


def _job_still_queued(deps: Deps, record: RunnerRecord) -> bool:
    """A relaunch, a replacement or a long-retried launch asks GitHub before it starts a task: a job
    that another runner took, that completed or that waits for an approval needs no runner now."""
    job = deps.github.get_job(record.repository, record.job_id)
    if job is not None and job.queued:
        return True
    state = "unknown to GitHub" if job is None else f"{job.status} on GitHub"
    from .retire import retire_runner  # retire imports this module

    retire_runner(
        deps, record.runner_name, RunnerStatus.OFFLINE, f"job {record.job_id} is {state}: no launch"
    )
    return False


def _jit_config(deps: Deps, record: RunnerRecord) -> JitConfig:
    def generate() -> JitConfig:
        return deps.github.generate_jitconfig(
            name=record.runner_name, labels=list(record.labels), runner_group_id=deps.settings.runner_group_id
        )

    try:
        return generate()
    except GitHubRunnerExists:
        # An earlier attempt registered the name but its config was never used: replace it.
        for runner in deps.github.list_runners(name=record.runner_name):
            if runner.name == record.runner_name:
                with suppress(GitHubNotFound):
                    deps.github.delete_runner(runner.id)
        return generate()


def _run_task(deps: Deps, record: RunnerRecord, size: ClassSize, task_definition: str, env_file: str) -> str:
    spot = size.spot and not record.on_demand
    request = TaskRequest(
        runner_name=record.runner_name,
        task_definition_arn=task_definition,
        cpu=size.cpu,
        memory=size.memory,
        spot=spot,
        environment_file_arn=env_file,
        tags=task_tags(deps, record),
        client_token=client_token(record.runner_name, record.attempts, "spot" if spot else "on-demand"),
        ephemeral_storage_gib=size.ephemeral_storage_gib,
    )
    try:
        return deps.launcher.run_task(request)
    except LaunchError as exc:
        if exc.definition_inactive:
            # Someone deregistered the derived revision: derive it again from the base, once.
            log.info("runner %s: task definition inactive; registering it again", record.runner_name)
            fresh = refresh_task_definition(deps, record)
            return deps.launcher.run_task(replace(request, task_definition_arn=fresh))
        if not (request.spot and exc.capacity):
            raise
        log.info("runner %s: no Fargate Spot capacity (%s); using on-demand", record.runner_name, exc)
        deps.metrics.count("SpotFallbacks")
        fallback = replace(
            request, spot=False, client_token=client_token(record.runner_name, record.attempts, "on-demand")
        )
        return deps.launcher.run_task(fallback)


def _record_task(
    deps: Deps, record: RunnerRecord, task_arn: str, github_runner_id: int | None
) -> RunnerRecord | None:
    now = deps.clock.now()
    name = record.runner_name

    def record_task(current: RunnerRecord) -> RunnerRecord | None:
        if current.terminal:
            return None
        changes: dict[str, object] = {
            "task_arn": task_arn,
            "next_attempt_at": None,
            "last_error": None,
            "task_started_at": now,
            "verify_queued": False,
        }
        if github_runner_id is not None:
            changes["github_runner_id"] = github_runner_id
        started = current.touch(now, **changes)
        return started.note("task started (RunTask): the STARTING timeout and the TTL count from here", now)

    before, after = deps.store.update(name, record_task, current=record)
    if after is None:
        if before is not None and before.terminal:
            # Terminated while we launched (an operator, a timeout): the task must not outlive it.
            deps.launcher.stop_task(task_arn, f"runner {name} is {before.status}")
            _cleanup_registration(deps, replace(before, github_runner_id=github_runner_id))
        return before
    deps.metrics.count("RunnersLaunched")
    deps.metrics.seconds("LaunchLatency", (now - after.created_at).total_seconds())
    log.info("runner %s launched as %s", name, task_arn, extra={"runner_name": name, "job_id": after.job_id})
    return after


def _defer(deps: Deps, name: str, message: str, until: datetime, attempt: _Attempt) -> None:
    """GitHub asked us to wait: try again then, without spending a launch attempt."""
    changes: dict[str, object] = {"last_error": message, "next_attempt_at": until}
    if attempt.github_runner_id is not None:
        changes["github_runner_id"] = attempt.github_runner_id
    deps.store.update(name, annotate(deps.clock.now(), **changes))


def _record_failure(deps: Deps, name: str, message: str, *, transient: bool, attempt: _Attempt) -> None:
    """A failed attempt. A transient failure never ends a job's chances while GitHub holds it queued:
    past ``max_launch_attempts`` each retry first asks GitHub, backoff capped at 10 minutes, until the
    launch wait limit (GitHub cancels a job queued 24 hours). ECS refusing the request ends it."""
    now = deps.clock.now()
    settings = deps.settings

    def failed_attempt(record: RunnerRecord) -> RunnerRecord | None:
        if record.terminal or record.task_arn:
            return None
        attempts = record.attempts + 1
        runner_id = attempt.github_runner_id or record.github_runner_id
        if not transient:
            reason = f"launch refused: {message}"
            moved = record.transition(RunnerStatus.FAILED, reason, now)
            return (
                moved.touch(
                    now, attempts=attempts, last_error=message, refusal="launch", github_runner_id=runner_id
                )
                if moved
                else None
            )
        if now - record.queued_since > timedelta(seconds=settings.launch_wait_timeout_seconds):
            reason = (
                f"gave up after {attempts} launch attempt(s) over the launch wait limit of "
                f"{settings.launch_wait_timeout_seconds}s: {message}"
            )
            moved = record.transition(RunnerStatus.FAILED, reason, now)
            return (
                moved.touch(
                    now,
                    attempts=attempts,
                    last_error=message,
                    refusal="queue-limit",
                    github_runner_id=runner_id,
                )
                if moved
                else None
            )
        return record.touch(
            now,
            attempts=attempts,
            last_error=message,
            next_attempt_at=now + retry_delay(attempts),
            verify_queued=record.verify_queued or attempts >= settings.max_launch_attempts,
            github_runner_id=runner_id,
        )

    _, after = deps.store.update(name, failed_attempt)
    if after is not None and not after.terminal:
        wake_for_next_launch(deps)  # the retry starts when its backoff ends, not at the next run
    if after is not None and after.terminal:
        deps.metrics.count("RunnersFailed", reason="launch")
        deps.metrics.count(
            "JobsAbandoned" if after.refusal == "queue-limit" else "JobsRefused", reason="launch"
        )
        _cleanup_registration(deps, after)


def fail_runner(deps: Deps, name: str, reason: str, *, refusal: str | None = None) -> RunnerRecord | None:
    """FAILED for a reason no retry can fix (``refusal`` says which kind); cleans up what it had."""
    changes: dict[str, object] = {"refusal": refusal} if refusal else {}
    after = move(deps, name, RunnerStatus.FAILED, reason, **changes)
    if after is not None:
        if refusal:
            deps.metrics.count("JobsRefused", reason=refusal)
        _cleanup_registration(deps, after)
    return after


def _cleanup_registration(deps: Deps, record: RunnerRecord) -> None:
    """Best effort: the JIT object and the GitHub registration of a runner that will never run."""
    try:
        deps.jit.delete(record.runner_name)
        if record.github_runner_id is not None:
            deps.github.delete_runner(record.github_runner_id)
    except GitHubNotFound:
        pass
    except Exception as exc:  # the janitor's orphan sweep finishes what this leaves
        log.warning("cleanup of %s incomplete: %s", record.runner_name, describe_error(exc))


def next_launch_due(record: RunnerRecord, now: datetime) -> bool:
    """A STARTING record without a task whose lease or backoff has passed."""
    return (
        record.status is RunnerStatus.STARTING
        and record.task_arn is None
        and (record.next_attempt_at is None or record.next_attempt_at <= now)
    )
