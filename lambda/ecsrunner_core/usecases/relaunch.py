"""New runners for a job whose runner can no longer take it.

A job keeps one runner record behind its job guard. When that runner cannot take the job any more
(its task died before the job, it took another job, it was retired while the job waited for an
approval), a successor is created for the same job in one write that moves the guard to it, on
condition that the guard still names the runner replaced: a redelivered event replaces only once.
A successor asks GitHub before it starts a task (``verify_queued``), so a job that ran elsewhere,
completed or waits for an approval costs one GitHub call and no task.
"""

from __future__ import annotations

from datetime import timedelta

from ..domain.names import new_runner_name
from ..domain.runner import RunnerRecord, new_runner_record
from .context import Deadline, Deps, log
from .launch import launch_runner
from .records import LAUNCH_LEASE, annotate

RELAUNCH_BACKOFF_SECONDS = 30
RELAUNCH_BACKOFF_MAX_SECONDS = 600
SPOT_STOP_CODES = frozenset({"SpotInterruption", "TerminationNotice"})
# Refusals a later event may lift (the operator fixed the configuration) and ones it may not.
CONFIG_REFUSALS = frozenset({"labels", "image", "launch"})
GIVEN_UP = frozenset({"relaunches", "queue-limit"})


def relaunch_delay(relaunch: int) -> timedelta:
    """The first relaunch starts at once; later ones back off (30 s, 60 s, ... 10 min)."""
    if relaunch <= 1:
        return timedelta(0)
    return timedelta(
        seconds=min(RELAUNCH_BACKOFF_SECONDS * 2 ** (relaunch - 2), RELAUNCH_BACKOFF_MAX_SECONDS)
    )


def replace_runner(
    deps: Deps,
    previous: RunnerRecord,
    reason: str,
    deadline: Deadline | None,
    *,
    relaunches: int | None = None,
    on_demand: bool | None = None,
    delay: timedelta = timedelta(0),
    fields: dict[str, object] | None = None,
) -> RunnerRecord | None:
    """Create (and, when due, launch) the successor of ``previous`` for its job; None when the
    guard no longer names ``previous`` (another delivery made the successor already)."""
    now = deps.clock.now()
    due_now = delay <= timedelta(0)
    values: dict[str, object] = {
        "class_name": previous.class_name,
        "image": previous.image,
        "image_tag": previous.image_tag,
        "architecture": previous.architecture,
        "run_id": previous.run_id,
        "run_url": previous.run_url,
        "workflow_name": previous.workflow_name,
        "job_name": previous.job_name,
        "job_queued_at": previous.queued_since,
        **(fields or {}),
    }
    values.update(
        replaces=previous.runner_name,
        relaunches=previous.relaunches if relaunches is None else relaunches,
        on_demand=previous.on_demand if on_demand is None else on_demand,
        verify_queued=True,
        next_attempt_at=now + (LAUNCH_LEASE if due_now else delay),
    )
    successor = new_runner_record(
        runner_name=new_runner_name(deps.settings.name),
        job_id=previous.job_id,
        repository=previous.repository,
        labels=previous.labels,
        at=now,
        reason=reason,
        fields=values,
    )
    result = deps.store.create(successor, replacing=previous.runner_name, take_slot=due_now)
    if not result.created or result.record is None:
        return None
    log.info(
        "job %s: runner %s replaces %s (%s)",
        previous.job_id,
        successor.runner_name,
        previous.runner_name,
        reason,
        extra={"job_id": previous.job_id, "runner_name": successor.runner_name},
    )
    if not due_now:
        return result.record
    launched = launch_runner(deps, successor.runner_name, deadline, current=result.record)
    return launched or result.record


def relaunch_after_death(
    deps: Deps, dead: RunnerRecord, cause: str, deadline: Deadline | None, *, stop_code: str | None = None
) -> RunnerRecord | None:
    """``dead`` ended without taking a job: its job gets a new runner, within the per-job budget
    (``max_job_relaunches``) and GitHub's queue limit. After a Spot interruption the new runner runs
    on on-demand Fargate. Returns the new runner, or None (not needed, or the job was given up)."""
    if not dead.terminal or dead.took_job or dead.refusal or not dead.class_name or not dead.job_id:
        return None  # (a warm runner nobody claimed has no job: its pool is refilled instead)
    settings, now = deps.settings, deps.clock.now()
    if dead.relaunches >= settings.max_job_relaunches:
        give_up(deps, dead, "relaunches", f"its runners ended {dead.relaunches + 1} times before taking it")
        return None
    if now - dead.queued_since > timedelta(seconds=settings.launch_wait_timeout_seconds):
        give_up(deps, dead, "queue-limit", f"it waited longer than {settings.launch_wait_timeout_seconds}s")
        return None
    relaunch = dead.relaunches + 1
    spot = stop_code in SPOT_STOP_CODES
    successor = replace_runner(
        deps,
        dead,
        f"relaunch {relaunch} of {settings.max_job_relaunches} for job {dead.job_id}: "
        f"runner {dead.runner_name} {cause}",
        deadline,
        relaunches=relaunch,
        on_demand=dead.on_demand or spot,
        delay=relaunch_delay(relaunch),
    )
    if successor is not None:
        deps.metrics.count("RunnersRelaunched", cause="spot" if spot else cause.split(" ", 1)[0])
    return successor


def give_up(deps: Deps, record: RunnerRecord, kind: str, why: str) -> None:
    """The job stays queued on GitHub without a runner of ours: say so on its last runner's record
    (reconciliation leaves it alone), in the logs and in a metric."""
    deps.store.update(record.runner_name, annotate(deps.clock.now(), refusal=kind))
    deps.metrics.count("JobsAbandoned", reason=kind)
    log.warning(
        "job %s given up (%s): %s",
        record.job_id,
        kind,
        why,
        extra={"job_id": record.job_id, "runner_name": record.runner_name},
    )
