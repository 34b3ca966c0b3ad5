"""Ending a runner on purpose (timeouts, TTL, operator, surplus): record first, then clean up."""

from __future__ import annotations

from ..domain.runner import RunnerRecord
from ..domain.status import RunnerStatus
from ..ports import GitHubNotFound
from .context import Deadline, Deps, log
from .errors import describe_error
from .github_pause import github_paused_until, wait_out_github_pause
from .launch import launch_runner, next_launch_due
from .records import move


def retire_runner(deps: Deps, runner_name: str, status: RunnerStatus, reason: str) -> RunnerRecord | None:
    """Mark the runner terminal, then stop its task and remove its registration and JIT object.

    The status is written first: a launch still in flight sees it and stops the task it started.
    Idempotent: a terminal runner is returned unchanged (its cleanup is repeated, harmlessly).
    """
    after = move(deps, runner_name, status, reason)
    record = after or deps.store.get(runner_name)
    if record is None:
        return None
    cleanup_runner(deps, record, reason)
    return record


def cleanup_runner(deps: Deps, record: RunnerRecord, reason: str) -> list[str]:
    """Stop the task, delete the GitHub registration and the JIT object; returns what failed."""
    problems: list[str] = []
    if record.task_arn:
        try:
            deps.launcher.stop_task(record.task_arn, reason[:1024])
        except Exception as exc:
            problems.append(f"stop task: {describe_error(exc)}")
    if record.github_runner_id is not None:
        try:
            deps.github.delete_runner(record.github_runner_id)
        except GitHubNotFound:
            pass
        except Exception as exc:  # includes an unreadable credentials secret: the rest still runs
            problems.append(f"delete GitHub runner: {describe_error(exc)}")
    try:
        deps.jit.delete(record.runner_name)
    except Exception as exc:
        problems.append(f"delete JIT object: {describe_error(exc)}")
    if problems:
        log.warning(
            "cleanup of %s incomplete (the janitor retries): %s",
            record.runner_name,
            "; ".join(problems),
            extra={"runner_name": record.runner_name},
        )
    return problems


def launch_waiting(
    deps: Deps, deadline: Deadline | None = None, limit: int | None = None, *, wait_for_github: bool = False
) -> int:
    """Launch runners that wait for capacity or a retry, oldest first; returns how many launched.

    With ``wait_for_github`` (the janitor), a GitHub rate-limit pause that ends before the deadline
    is slept through, and the runners it deferred are launched after it.
    """
    launched = 0
    for record in deps.store.by_status(RunnerStatus.STARTING, newest_first=False):
        if limit is not None and launched >= limit:
            break
        if deadline is not None and deadline.expired:
            break
        paused = github_paused_until(deps)
        due_after_pause = (
            paused is not None and record.next_attempt_at is not None and record.next_attempt_at <= paused
        )
        if not (next_launch_due(record, deps.clock.now()) or (wait_for_github and due_after_pause)):
            continue
        if paused is not None and not (wait_for_github and wait_out_github_pause(deps, deadline)):
            break
        if not next_launch_due(record, deps.clock.now()):
            continue
        after = launch_runner(deps, record.runner_name, deadline)
        if wait_for_github and _deferred_by_github(deps, after) and wait_out_github_pause(deps, deadline):
            after = launch_runner(deps, record.runner_name, deadline)  # its turn, after the new pause
        if after is not None and after.task_arn:
            launched += 1
        elif after is not None and not after.holds_slot and not after.terminal:
            break  # still no capacity: the runners behind it will not get a slot either
    return launched


def _deferred_by_github(deps: Deps, record: RunnerRecord | None) -> bool:
    """The launch met a GitHub rate limit just now and was deferred to the pause's end."""
    paused = github_paused_until(deps)
    return (
        record is not None
        and paused is not None
        and not record.terminal
        and record.task_arn is None
        and record.next_attempt_at == paused
    )
