"""ECS task state changes for our cluster."""

from __future__ import annotations

from ..aws_events import TaskStateChange
from ..domain.names import is_our_runner_name
from ..domain.runner import RunnerRecord
from ..domain.status import ACTIVE_STATUSES, RunnerStatus
from .context import Deadline, Deps, log
from .outcomes import Outcome
from .records import annotate, move
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
    name = record.runner_name
    if record.task_arn and record.task_arn != event.task_arn:
        if event.last_status != "STOPPED":
            deps.launcher.stop_task(event.task_arn, f"duplicate task for runner {name}")
            return Outcome("stopped_duplicate", event.task_arn, name)
        return Outcome("ignored", "stopped duplicate task", name)

    if event.last_status == "RUNNING":
        after = move(deps, name, RunnerStatus.WAITING_FOR_JOB, "task running", task_arn=event.task_arn)
        if after is None:
            deps.store.update(name, annotate(deps.clock.now(), task_arn=event.task_arn))
            return Outcome("noop", f"runner already {record.status}", name)
        deps.metrics.seconds("QueueToStartLatency", (deps.clock.now() - after.created_at).total_seconds())
        deps.jit.delete(name)  # the ECS agent read the environment file before the container started
        return Outcome("waiting_for_job", event.task_arn, name)

    if event.last_status == "STOPPED":
        return _stopped(deps, record, event, deadline)

    deps.store.update(name, annotate(deps.clock.now(), task_arn=event.task_arn))
    return Outcome("noop", f"task {event.last_status}", name)


def _stopped(deps: Deps, record: RunnerRecord, event: TaskStateChange, deadline: Deadline | None) -> Outcome:
    name = record.runner_name
    ran_job = record.run_job_id is not None or record.status is RunnerStatus.RUNNING
    clean_exit = event.exit_code == 0 and event.stop_code == ESSENTIAL_CONTAINER_EXITED
    if ran_job:
        status = RunnerStatus.OFFLINE
        reason = f"task stopped after job {record.run_job_id or '?'} ({event.stop_code or 'no stop code'})"
    elif clean_exit:
        status, reason = RunnerStatus.OFFLINE, "runner exited cleanly (exit code 0)"
    else:
        status, reason = RunnerStatus.FAILED, event.failure_reason()
    after = move(deps, name, status, reason, task_arn=event.task_arn)
    if after is None:
        return Outcome("noop", f"runner already {record.status}", name)
    if status is RunnerStatus.FAILED:
        cleanup_runner(deps, after, reason)
    else:
        deps.jit.delete(name)
    log.info("runner %s %s: %s", name, status, reason, extra={"runner_name": name})
    launch_waiting(deps, deadline, limit=1)
    return Outcome(status.lower(), reason, name)
