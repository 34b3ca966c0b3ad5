"""Ending a runner on purpose (timeouts, TTL, operator, surplus): record first, then clean up; and
launching the runners that wait for a slot, a retry or the end of a GitHub pause."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from ..domain.runner import RunnerRecord
from ..domain.status import RunnerStatus
from ..ports import GitHubError, GitHubInvalid, GitHubNotFound
from .context import Deadline, Deps, log
from .errors import describe_error
from .github_pause import github_paused_until, wait_out_github_pause
from .launch import launch_runner, next_launch_due
from .records import move

# Runners read per page of the waiting index when the caller launches as many as it can.
WAITING_PAGE = 25


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


def retire_if_idle(
    deps: Deps, record: RunnerRecord, status: RunnerStatus, reason: str
) -> RunnerRecord | None:
    """End ``record`` unless GitHub says its runner is running a job: the one path by which the
    control plane (surplus runners) and the janitor (timeouts other than the TTL) end a live runner.

    GitHub is asked first (``GET .../runners/{id}``); a busy runner is moved to RUNNING and kept. An
    idle or unknown runner is deregistered first (GitHub refuses with 422 while it is busy, which
    also keeps it), then its record ends and its task stops. Returns the ended record, or None when
    the runner was kept (busy, or GitHub could not be asked: the next janitor run asks again).
    """
    runner_id = record.github_runner_id
    if runner_id is not None:
        try:
            runner = deps.github.get_runner(runner_id)
            if runner is not None and runner.busy:
                _found_busy(deps, record)
                return None
            deps.github.delete_runner(runner_id)
        except GitHubNotFound:
            pass
        except GitHubInvalid:
            _found_busy(deps, record)
            return None
        except GitHubError as exc:
            log.info("runner %s kept: %s", record.runner_name, describe_error(exc))
            return None
    return retire_runner(deps, record.runner_name, status, reason)


def _found_busy(deps: Deps, record: RunnerRecord) -> None:
    """GitHub reports the runner running a job (its in_progress delivery was late or lost)."""
    after = move(deps, record.runner_name, RunnerStatus.RUNNING, "GitHub reports the runner busy with a job")
    deps.metrics.count("RunnersFoundBusy")
    log.info(
        "runner %s is busy on GitHub: kept", record.runner_name, extra={"runner_name": record.runner_name}
    )
    if after is not None:
        deps.jit.delete(record.runner_name)


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


class _Stop:
    """Shared by the launch threads: once capacity runs out or GitHub pauses us, start no more."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def set(self, reason: str) -> None:
        self.reason = reason
        self._event.set()

    @property
    def is_set(self) -> bool:
        return self._event.is_set()


def launch_waiting(
    deps: Deps,
    deadline: Deadline | None = None,
    limit: int | None = None,
    *,
    concurrency: int = 1,
    wait_for_github: bool = False,
) -> int:
    """Launch runners that wait for capacity, a retry or a GitHub pause, soonest due first; returns
    how many got a task. It reads the sparse waiting index, so it costs what it launches, not what
    the STARTING partition holds.

    ``concurrency`` launches that many at once (the janitor; each launch claims its record, so a
    runner is never launched twice). ``wait_for_github`` sleeps through a GitHub pause that ends
    within a few seconds; a longer one is left to the wake-up scheduled when it began.
    """
    if github_paused_until(deps) is not None and not (
        wait_for_github and wait_out_github_pause(deps, deadline)
    ):
        return 0
    stop = _Stop()
    due = _due(deps, stop, page_size=limit if limit is not None else WAITING_PAGE)
    if concurrency <= 1 or (limit is not None and limit <= 1):
        launched = 0
        for record in due:
            if (limit is not None and launched >= limit) or (deadline is not None and deadline.expired):
                break
            launched += _launch_one(deps, record, deadline, stop)
        return launched
    return _launch_concurrently(deps, due, deadline, limit=limit, concurrency=concurrency, stop=stop)


def _due(deps: Deps, stop: _Stop, *, page_size: int) -> Iterator[RunnerRecord]:
    for record in deps.store.waiting(deps.clock.now(), page_size=page_size):
        if stop.is_set:
            return
        if next_launch_due(record, deps.clock.now()):
            yield record


def _launch_one(deps: Deps, record: RunnerRecord, deadline: Deadline | None, stop: _Stop) -> int:
    if stop.is_set:
        return 0
    after = launch_runner(deps, record.runner_name, deadline)
    if after is not None and after.task_arn:
        return 1
    if github_paused_until(deps) is not None:
        stop.set("GitHub rate limit")
    elif after is not None and not after.holds_slot and not after.terminal:
        stop.set("no capacity")  # the runners behind it will not get a slot either
    return 0


def _launch_concurrently(
    deps: Deps,
    due: Iterator[RunnerRecord],
    deadline: Deadline | None,
    *,
    limit: int | None,
    concurrency: int,
    stop: _Stop,
) -> int:
    launched = 0
    started = 0
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="launch") as pool:
        running: set[Future[int]] = set()
        for record in due:
            if stop.is_set or (deadline is not None and deadline.expired):
                break
            if limit is not None and started >= limit:
                break
            running.add(pool.submit(_launch_one, deps, record, deadline, stop))
            started += 1
            if len(running) >= concurrency:
                done, running = _wait_some(running)
                launched += sum(future.result() for future in done)
        done, _ = wait(running)
        launched += sum(future.result() for future in done)
    return launched


def _wait_some(running: set[Future[int]]) -> tuple[set[Future[int]], set[Future[int]]]:
    done, pending = wait(running, return_when=FIRST_COMPLETED)
    return done, pending
