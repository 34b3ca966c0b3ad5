"""ECS task state changes for our cluster: from EventBridge, or found by the janitor when the event
was lost (the same code applies both)."""

from __future__ import annotations

from ..aws_events import ContainerState, TaskStateChange
from ..domain.names import is_our_runner_name
from ..domain.runner import RunnerRecord
from ..domain.status import ACTIVE_STATUSES, RunnerStatus
from ..ports import TaskInfo
from .context import Deadline, Deps, log
from .outcomes import Outcome
from .pools import refill_pool
from .records import annotate, move
from .relaunch import relaunch_after_death
from .retire import cleanup_runner, launch_waiting

ESSENTIAL_CONTAINER_EXITED = "EssentialContainerExited"


def _find_runner(deps: Deps, event: TaskStateChange) -> RunnerRecord | None:
    if is_our_runner_name(deps.settings.name, event.started_by):
        return deps.store.get(event.started_by or "")
    for status in ACTIVE_STATUSES:
        for record in deps.store.by_status(status):
            if record.task_arn == event.task_arn:
                return record
    return None


def handle_task_event(deps: Deps, event: TaskStateChange, deadline: Deadline | None = None) -> Outcome:
    if deps.settings.cluster_arn and event.cluster_arn != deps.settings.cluster_arn:
        return Outcome("ignored", "task of another cluster")
    record = _find_runner(deps, event)
    if record is None:
        return Outcome("ignored", f"no runner for task {event.task_arn} (the janitor stops orphans)")
    return apply_task_state(deps, record, event, deadline)


def apply_task_state(
    deps: Deps, record: RunnerRecord, event: TaskStateChange, deadline: Deadline | None = None
) -> Outcome:
    name = record.runner_name
    if record.task_arn and record.task_arn != event.task_arn:
        if event.last_status != "STOPPED":
            deps.launcher.stop_task(event.task_arn, f"duplicate task for runner {name}")
            return Outcome("stopped_duplicate", event.task_arn, name)
        return Outcome("ignored", "stopped duplicate task", name)

    if event.last_status == "RUNNING":
        after = move(deps, name, RunnerStatus.WAITING_FOR_JOB, "task running", task_arn=event.task_arn)
        if after is None:
            if record.task_arn != event.task_arn:
                deps.store.update(name, annotate(deps.clock.now(), task_arn=event.task_arn))
            return Outcome("noop", f"runner already {record.status}", name)
        deps.metrics.seconds("QueueToStartLatency", (deps.clock.now() - after.created_at).total_seconds())
        deps.jit.delete(name)  # the ECS agent read the environment file before the container started
        return Outcome("waiting_for_job", event.task_arn, name)

    if event.last_status == "STOPPED":
        return _stopped(deps, record, event, deadline)

    if record.task_arn != event.task_arn:
        deps.store.update(name, annotate(deps.clock.now(), task_arn=event.task_arn))
    return Outcome("noop", f"task {event.last_status}", name)


def _stopped(deps: Deps, record: RunnerRecord, event: TaskStateChange, deadline: Deadline | None) -> Outcome:
    name = record.runner_name
    clean_exit = event.exit_code == 0 and event.stop_code == ESSENTIAL_CONTAINER_EXITED
    if record.took_job:
        status = RunnerStatus.OFFLINE
        reason = f"task stopped after job {record.run_job_id or '?'} ({event.stop_code or 'no stop code'})"
    elif clean_exit:
        status, reason = RunnerStatus.OFFLINE, "runner exited cleanly (exit code 0) without a job"
    else:
        status, reason = RunnerStatus.FAILED, event.failure_reason()
    after = move(deps, name, status, reason, task_arn=event.task_arn)
    ended = after or record
    if not ended.terminal:
        return Outcome("noop", f"runner {record.status}", name)
    # Also on a repeated event: a relaunch an earlier invocation did not get to is made now (the
    # job guard makes it happen once).
    successor = relaunch_after_death(
        deps, ended, "stopped before taking a job", deadline, stop_code=event.stop_code
    )
    if after is None:
        return Outcome("noop", f"runner already {record.status}", name)
    if status is RunnerStatus.FAILED:
        cleanup_runner(deps, after, reason)
    else:
        deps.jit.delete(name)
    if after.pool and not after.job_id:
        refill_pool(deps, after.pool, f"replaces warm runner {name} ({reason})", deadline)
    log.info("runner %s %s: %s", name, status, reason, extra={"runner_name": name})
    if successor is None or not successor.holds_slot:
        launch_waiting(deps, deadline, limit=1)  # its slot is free
    detail = f"{reason}; relaunched as {successor.runner_name}" if successor is not None else reason
    return Outcome(status.lower(), detail, name)


def change_from_task(deps: Deps, info: TaskInfo | None, task_arn: str) -> TaskStateChange:
    """What a lost ECS event would have said, from DescribeTasks (``None``: ECS forgot the task)."""
    if info is None:
        return TaskStateChange(
            cluster_arn=deps.settings.cluster_arn,
            task_arn=task_arn,
            last_status="STOPPED",
            desired_status="STOPPED",
            started_by=None,
            stop_code=None,
            stopped_reason="the task is no longer known to ECS (its STOPPED event was lost)",
            containers=(),
            version=None,
        )
    container = ContainerState(
        name=deps.settings.container_name,
        last_status=info.last_status,
        exit_code=info.exit_code,
        reason=info.container_reason,
    )
    return TaskStateChange(
        cluster_arn=deps.settings.cluster_arn,
        task_arn=info.task_arn,
        last_status=info.last_status,
        desired_status=info.desired_status,
        started_by=info.started_by,
        stop_code=info.stop_code,
        stopped_reason=info.stopped_reason,
        containers=(container,),
        version=None,
    )
