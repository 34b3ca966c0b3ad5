"""Runner statuses and the one table of transitions between them."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class RunnerStatus(StrEnum):
    STARTING = "STARTING"
    IMAGE_CREATING = "IMAGE_CREATING"
    WAITING_FOR_JOB = "WAITING_FOR_JOB"
    RUNNING = "RUNNING"
    OFFLINE = "OFFLINE"
    FAILED = "FAILED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({RunnerStatus.OFFLINE, RunnerStatus.FAILED})
ACTIVE_STATUSES = tuple(s for s in RunnerStatus if s not in TERMINAL_STATUSES)

_S = RunnerStatus
# from -> the statuses it may move to. Anything else (backwards, repeated, out of a terminal
# status) is not an error but a no-op: duplicate and reordered events are normal.
TRANSITIONS: Mapping[RunnerStatus, frozenset[RunnerStatus]] = {
    _S.STARTING: frozenset({_S.IMAGE_CREATING, _S.WAITING_FOR_JOB, _S.RUNNING, _S.OFFLINE, _S.FAILED}),
    _S.IMAGE_CREATING: frozenset({_S.STARTING, _S.OFFLINE, _S.FAILED}),
    _S.WAITING_FOR_JOB: frozenset({_S.RUNNING, _S.OFFLINE, _S.FAILED}),
    _S.RUNNING: frozenset({_S.OFFLINE, _S.FAILED}),
    _S.OFFLINE: frozenset(),
    _S.FAILED: frozenset(),
}


def can_transition(current: RunnerStatus, target: RunnerStatus) -> bool:
    return target in TRANSITIONS[current]
