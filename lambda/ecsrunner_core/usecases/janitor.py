"""The scheduled janitor: lost events, timeouts, TTL, retries, reconciliation with GitHub, orphans.

It reads only active runners (the status index), so its cost follows the fleet, not the history.
Every clock it checks has one documented start (docs/DESIGN.md, "Timeouts"):

* launch wait (``launch_wait_timeout_seconds``): from the job's queued time, for a runner that has
  no task yet (waiting for a slot, a retry or a GitHub pause);
* STARTING (``starting_timeout_seconds``): from the RunTask that started the current task;
* IMAGE_CREATING (``image_creating_timeout_seconds``): from entering IMAGE_CREATING;
* WAITING_FOR_JOB (``waiting_for_job_timeout_seconds``): from the task reaching RUNNING;
* TTL (``runner_ttl_seconds``): a task's whole life, from its RunTask, busy or not.

Before a timeout other than the TTL ends a runner whose task may be running, GitHub is asked: a
busy runner is kept (``retire_if_idle``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TypeVar

from ..domain.images import LOCAL_BUILD_PREFIX, ImageState
from ..domain.names import is_our_runner_name
from ..domain.runner import RunnerRecord
from ..domain.status import ACTIVE_STATUSES, RunnerStatus
from ..ports import TaskInfo
from .context import Deadline, Deps, log
from .errors import describe_error
from .github_pause import github_paused_until
from .images import (
    BUILD_FAILED_STATES,
    STALE_BUILD_LOCK,
    build_failure_reason,
    record_build_failure,
    register_ready_image,
    start_image_build,
)
from .launch import fail_runner, launch_runner
from .leases import run_alone
from .outcomes import JanitorReport
from .pools import maintain_pools
from .reconcile import reconcile_with_github
from .records import move
from .relaunch import give_up, relaunch_after_death
from .retire import launch_waiting, retire_if_idle, retire_runner
from .tasks import apply_task_state, change_from_task
from .wakeups import wake_for_next_launch

T = TypeVar("T")


JANITOR_LEASE = "janitor"


@contextmanager
def _one_at_a_time(deps: Deps, deadline: Deadline | None, report: JanitorReport) -> Iterator[bool]:
    """Overlapping janitor runs (a wake-up during a scheduled run) must not both launch: the
    second one ends at once. The lease ends with the run, or by itself if the run dies."""
    with run_alone(deps, JANITOR_LEASE, deadline) as alone:
        if not alone:
            report.errors.append("another janitor run is in progress")
        yield alone


def run_janitor(deps: Deps, deadline: Deadline | None = None) -> JanitorReport:
    report = JanitorReport()
    with _one_at_a_time(deps, deadline, report) as alone:
        if alone:
            _run(deps, deadline, report)
    return report


def _run(deps: Deps, deadline: Deadline | None, report: JanitorReport) -> None:
    snapshot = list(deps.store.active())
    active = snapshot
    report.active_seen = len(active)
    running_tasks = _step(report, "running_task_arns", deps.launcher.running_task_arns) or set()
    active = (
        _step(report, "reconcile_tasks", lambda: _reconcile_tasks(deps, active, running_tasks, report)) or []
    )
    for record in active:
        if deadline is not None and deadline.expired:
            report.errors.append("deadline reached; the next run continues")
            break
        try:
            _check_runner(deps, record, report, deadline)
        except Exception as exc:  # one bad record must not stop the sweep
            report.errors.append(f"{record.runner_name}: {describe_error(exc)}")
            log.exception("janitor: %s", record.runner_name, extra={"runner_name": record.runner_name})
    if not _expired(deadline):
        # Launches that failed, waited for capacity (freed above, too) or were deferred by a GitHub
        # rate limit, soonest due first, several at once.
        launched = _step(
            report,
            "launch_waiting",
            lambda: launch_waiting(
                deps, deadline, concurrency=deps.settings.launch_concurrency, wait_for_github=True
            ),
        )
        report.relaunched += launched or 0
        if github_paused_until(deps) is not None:
            report.errors.append("GitHub rate limit: launches resume when the pause ends")
    if (deps.settings.warm_pools or any(r.pool for r in active)) and not _expired(deadline):
        still_active = [r for r in active if r.runner_name not in report.ended]
        _step(report, "maintain_pools", lambda: maintain_pools(deps, still_active, report, deadline))
    if deps.settings.reconcile_with_github and not _expired(deadline):
        # The runners still active after this run's own changes cover queued jobs; runners it
        # created since (relaunches) are behind their jobs' guards, which the accept path reads.
        still_active = [r for r in active if r.runner_name not in report.ended]
        _step(
            report,
            "reconcile_with_github",
            lambda: reconcile_with_github(deps, report, deadline, still_active),
        )
    if not _expired(deadline):
        _step(report, "stop_orphan_tasks", lambda: _stop_orphan_tasks(deps, running_tasks, snapshot, report))
    if not _expired(deadline):
        _step(
            report,
            "delete_orphan_registrations",
            lambda: _delete_orphan_registrations(deps, snapshot, report),
        )
    # What this run left waiting for a retry or a pause is launched when it falls due.
    _step(report, "wake_for_next_launch", lambda: wake_for_next_launch(deps))
    _emit(deps, report, snapshot)


def resume_launches(deps: Deps, deadline: Deadline | None = None) -> JanitorReport:
    """Woken when a GitHub pause ended: launch what it deferred, several at once, until GitHub's
    ceiling pauses us again (the next pause wakes this again)."""
    report = JanitorReport()
    with _one_at_a_time(deps, deadline, report) as alone:
        if alone:
            launched = _step(
                report,
                "launch_waiting",
                lambda: launch_waiting(
                    deps, deadline, concurrency=deps.settings.launch_concurrency, wait_for_github=True
                ),
            )
            report.relaunched += launched or 0
            _step(report, "wake_for_next_launch", lambda: wake_for_next_launch(deps))
    return report


def _expired(deadline: Deadline | None) -> bool:
    return deadline is not None and deadline.expired


def _step(report: JanitorReport, name: str, call: Callable[[], T]) -> T | None:
    """Run one step; its failure is reported and the next steps still run."""
    try:
        return call()
    except Exception as exc:
        report.errors.append(f"{name}: {describe_error(exc)}")
        log.exception("janitor: %s failed", name)
        return None


def _emit(deps: Deps, report: JanitorReport, snapshot: list[RunnerRecord]) -> None:
    by_status = Counter(r.status.value for r in snapshot)  # at the start of the run
    for status in ACTIVE_STATUSES:
        deps.metrics.count("RunnersByStatus", by_status.get(status.value, 0), status=status.value)
    deps.metrics.count("JobsQueuedTooLong", report.queued_too_long)
    for name, value in report.as_dict().items():
        if isinstance(value, int) and name != "active_seen":
            deps.metrics.count(f"Janitor_{name}", value)
    log.info("janitor run", extra={"report": report.as_dict()})


def _over(since: datetime | None, seconds: int, now: datetime) -> bool:
    return since is not None and now - since > timedelta(seconds=seconds)


# --- records against ECS -------------------------------------------------------------------------


def _reconcile_tasks(
    deps: Deps, active: list[RunnerRecord], running: set[str], report: JanitorReport
) -> list[RunnerRecord]:
    """Apply the STOPPED events that never arrived: a runner whose task stopped (or that ECS no
    longer knows) ends as the event would have ended it, relaunching its job if it had not taken
    it, and frees its slot. Returns the runners still active. (A lost RUNNING event needs nothing
    here: the STARTING timeout asks GitHub before it ends a runner.)"""
    suspects = [r for r in active if r.task_arn and r.task_arn not in running]
    if not suspects:
        return active
    described = deps.launcher.describe_tasks([r.task_arn or "" for r in suspects])
    ended: set[str] = set()
    for record in suspects:
        info: TaskInfo | None = described.get(record.task_arn or "")
        if info is not None and info.last_status != "STOPPED":
            continue  # desired STOPPED, still stopping: its event (or the next run) ends it
        change = change_from_task(deps, info, record.task_arn or "")
        outcome = apply_task_state(deps, record, change)
        log.info("janitor: task %s of %s had stopped: %s", record.task_arn, record.runner_name, outcome)
        report.tasks_reconciled += 1
        deps.metrics.count("TasksReconciled")
        ended.add(record.runner_name)
        report.ended.add(record.runner_name)
    return [r for r in active if r.runner_name not in ended]


# --- clocks --------------------------------------------------------------------------------------


def _check_runner(deps: Deps, record: RunnerRecord, report: JanitorReport, deadline: Deadline | None) -> None:
    settings, now = deps.settings, deps.clock.now()
    name = record.runner_name
    if record.task_arn and _over(record.task_started_at, settings.runner_ttl_seconds, now):
        report.ended.add(name)
        retire_runner(
            deps,
            name,
            RunnerStatus.FAILED,
            f"task exceeded the runner TTL of {settings.runner_ttl_seconds}s (counted from its RunTask)",
        )
        report.expired += 1
        return
    waiting = record.status in (RunnerStatus.STARTING, RunnerStatus.IMAGE_CREATING) and not record.task_arn
    if waiting and _over(record.queued_since, settings.queued_too_long_seconds, now):
        report.queued_too_long += 1
    if record.status is RunnerStatus.STARTING:
        _check_starting(deps, record, report, deadline)
    elif record.status is RunnerStatus.IMAGE_CREATING:
        _check_image_wait(deps, record, report, deadline)
    elif (
        record.status is RunnerStatus.WAITING_FOR_JOB
        and record.job_id  # a warm runner nobody claimed idles by design (its pool recycles it)
        and _over(record.status_since, settings.waiting_for_job_timeout_seconds, now)
    ):
        _end_idle(
            deps,
            record,
            report,
            deadline,
            f"no job within the WAITING_FOR_JOB timeout of {settings.waiting_for_job_timeout_seconds}s "
            "(counted from the task reaching RUNNING)",
            cause="waiting-timeout",
        )


def _check_starting(
    deps: Deps, record: RunnerRecord, report: JanitorReport, deadline: Deadline | None
) -> None:
    settings, now = deps.settings, deps.clock.now()
    if record.task_arn:
        started = record.task_started_at or record.status_since
        if _over(started, settings.starting_timeout_seconds, now):
            _end_idle(
                deps,
                record,
                report,
                deadline,
                f"task not RUNNING within the STARTING timeout of {settings.starting_timeout_seconds}s "
                "(counted from its RunTask)",
                cause="starting-timeout",
            )
    elif _over(record.queued_since, settings.launch_wait_timeout_seconds, now):
        reason = (
            f"no task started within the launch wait limit of {settings.launch_wait_timeout_seconds}s "
            f"(counted from the job's queued time); last error: {record.last_error or 'none'}"
        )
        ended = fail_runner(deps, record.runner_name, reason)
        if ended is not None:
            give_up(deps, ended, "queue-limit", reason)
        report.timed_out += 1


def _end_idle(
    deps: Deps,
    record: RunnerRecord,
    report: JanitorReport,
    deadline: Deadline | None,
    reason: str,
    *,
    cause: str,
) -> None:
    ended = retire_if_idle(deps, record, RunnerStatus.FAILED, reason)
    if ended is None:
        return
    report.ended.add(record.runner_name)
    report.timed_out += 1
    if relaunch_after_death(deps, ended, cause, deadline) is not None:
        report.relaunched_jobs += 1


def _check_image_wait(
    deps: Deps, record: RunnerRecord, report: JanitorReport, deadline: Deadline | None
) -> None:
    """Covers a lost or never-sent CodeBuild event, and a build lock whose holder died."""
    settings, now, name = deps.settings, deps.clock.now(), record.runner_name
    image = deps.images.get_image(record.image_tag or "")
    if image is not None and image.state is ImageState.BUILDING and image.build_id is None:
        if now - image.updated_at > STALE_BUILD_LOCK and record.image and record.architecture:
            started = start_image_build(
                deps, base_image=record.image, tag=image.tag, architecture=record.architecture
            )
            if started is not None:
                report.build_locks_recovered += 1
                deps.metrics.count("ImageBuildLocksRecovered")
                log.warning("image %s: took over a build lock without a build (its holder died)", image.tag)
            image = deps.images.get_image(image.tag)
    elif (
        image is not None
        and image.state is ImageState.BUILDING
        and image.build_id
        and not image.build_id.startswith(LOCAL_BUILD_PREFIX)
        and deps.builder is not None
    ):
        build = deps.builder.get_build(image.build_id)
        if build.status == "SUCCEEDED":
            found = deps.registry.find(image.tag)
            if found is not None:
                image = register_ready_image(
                    deps, found, image, base_image=image.base_image, architecture=image.architecture
                )
        elif build.status in BUILD_FAILED_STATES:
            image = record_build_failure(deps, image, build.build_id, f"build {build.status}", build.log_url)
    if image is not None and image.state is ImageState.FAILED:
        fail_runner(deps, name, build_failure_reason(image), refusal="image")
        report.timed_out += 1
    elif image is None or image.state is ImageState.READY:
        move(deps, name, RunnerStatus.STARTING, "resuming launch after the image wait")
        launch_runner(deps, name, deadline)
        report.images_resumed += 1
    elif _over(record.status_since, settings.image_creating_timeout_seconds, now):
        fail_runner(
            deps,
            name,
            f"image build did not finish within the IMAGE_CREATING timeout of "
            f"{settings.image_creating_timeout_seconds}s",
            refusal="image",
        )
        report.timed_out += 1


# --- orphans -------------------------------------------------------------------------------------


def _stop_orphan_tasks(
    deps: Deps, running: set[str], snapshot: list[RunnerRecord], report: JanitorReport
) -> None:
    """Tasks of ours that run without an active record (describes only tasks no record names)."""
    live = [r for r in snapshot if r.runner_name not in report.ended]  # ended by this run: checked
    live_names = {r.runner_name for r in live}
    unknown = sorted(running - {r.task_arn for r in live if r.task_arn})
    if not unknown:
        return
    for task in deps.launcher.describe_tasks(unknown).values():
        if task is None or task.last_status == "STOPPED":
            continue
        name = task.started_by or task.tags.get("ecsrunner:runner-name")
        if not is_our_runner_name(deps.settings.name, name) or name in live_names:
            continue
        record = deps.store.get(name or "")
        if record is not None and not record.terminal:
            continue  # created after our snapshot
        deps.launcher.stop_task(
            task.task_arn, f"orphan: runner {name} is {record.status if record else 'unknown'}"
        )
        report.orphan_tasks_stopped += 1


def _delete_orphan_registrations(deps: Deps, snapshot: list[RunnerRecord], report: JanitorReport) -> None:
    live_names = {r.runner_name for r in snapshot if r.runner_name not in report.ended}
    for runner in deps.github.list_runners():
        if runner.busy or runner.status != "offline" or runner.name in live_names:
            continue
        if not is_our_runner_name(deps.settings.name, runner.name):
            continue
        record = deps.store.get(runner.name)
        if record is not None and not record.terminal:
            continue
        deps.github.delete_runner(runner.id)
        report.orphan_runners_deleted += 1
