"""What the operator CLI does with runners: list, inspect, terminate."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice

from ..domain.runner import RunnerRecord
from ..domain.status import RunnerStatus
from ..ports import RunnerStore
from .context import Deps
from .retire import launch_waiting, retire_runner

TERMINATED_BY_OPERATOR = "terminated by operator"


class UnknownRunner(LookupError):
    pass


def list_runners(
    store: RunnerStore,
    statuses: Iterable[RunnerStatus] | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> Iterator[RunnerRecord]:
    """Newest first, across the requested statuses, reading the index page by page (never a Scan)."""
    wanted = list(dict.fromkeys(statuses or RunnerStatus))
    streams = [store.by_status(status, since=since, newest_first=True) for status in wanted]
    merged = heapq.merge(*streams, key=lambda r: (r.created_at, r.runner_name), reverse=True)
    return islice(merged, limit) if limit is not None else merged


def get_runner(store: RunnerStore, runner_id: str) -> RunnerRecord:
    record = store.get(runner_id)
    if record is None:
        raise UnknownRunner(f"no runner {runner_id!r}")
    return record


def terminate_runner(deps: Deps, runner_id: str) -> tuple[RunnerRecord, bool]:
    """Stop, deregister and mark OFFLINE; returns (record, changed). Repeating it changes nothing."""
    record = get_runner(deps.store, runner_id)
    if record.terminal:
        return record, False
    after = retire_runner(deps, runner_id, RunnerStatus.OFFLINE, TERMINATED_BY_OPERATOR)
    launch_waiting(deps, limit=1)
    return after or record, True
