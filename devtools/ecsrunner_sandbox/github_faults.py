"""Fault injection for the GitHub stand-in: scripted or random errors and rate limits.

A script answers the next requests in order (``None`` lets one request through); a rate turns
each request into a fault with that probability, drawn from a seeded RNG so runs repeat. Both can
be limited to some operation ids. The JIT ceiling answers generate-jitconfig with a secondary rate
limit beyond N calls in any rolling 60 seconds.
"""

from __future__ import annotations

import enum
import math
import random
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .github_replies import PRIMARY_LIMIT_DOCS, SECONDARY_LIMIT_DOCS, SECONDARY_LIMIT_MESSAGE, Reply, error

JIT_OPERATIONS = frozenset(
    {"actions/generate-runner-jitconfig-for-repo", "actions/generate-runner-jitconfig-for-org"}
)


class FaultKind(enum.Enum):
    SERVER_ERROR = "server error"
    SECONDARY_LIMIT = "secondary rate limit"
    TOO_MANY_REQUESTS = "429 too many requests"
    PRIMARY_LIMIT = "primary rate limit"
    FORBIDDEN = "403 forbidden (not a rate limit)"


@dataclass(frozen=True)
class Fault:
    """One injected response. ``retry_after`` is the ``Retry-After`` header (None: no header);
    ``reset_in`` puts ``x-ratelimit-reset`` that many seconds ahead for a primary limit;
    ``after_handling`` performs the request first and then answers with the fault (a response
    lost after GitHub acted on the request)."""

    kind: FaultKind
    status: int | None = None
    retry_after: int | None = None
    reset_in: int = 30
    after_handling: bool = False

    def reply(self, now: float) -> Reply:
        headers = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        if self.kind is FaultKind.SERVER_ERROR:
            return error(self.status or 500, "Server Error", headers=headers)
        if self.kind is FaultKind.FORBIDDEN:
            return error(403, "Resource not accessible by integration")
        if self.kind is FaultKind.PRIMARY_LIMIT:
            reset = math.ceil(now) + self.reset_in
            headers.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
            message = "API rate limit exceeded for user ID 1."
            return error(self.status or 403, message, PRIMARY_LIMIT_DOCS, headers)
        default_status = 429 if self.kind is FaultKind.TOO_MANY_REQUESTS else 403
        return error(self.status or default_status, SECONDARY_LIMIT_MESSAGE, SECONDARY_LIMIT_DOCS, headers)


def server_error(status: int = 500, retry_after: int | None = None, *, after_handling: bool = False) -> Fault:
    return Fault(FaultKind.SERVER_ERROR, status, retry_after, after_handling=after_handling)


def forbidden() -> Fault:
    return Fault(FaultKind.FORBIDDEN, 403)


def secondary_limit(retry_after: int | None = 60) -> Fault:
    return Fault(FaultKind.SECONDARY_LIMIT, 403, retry_after)


def too_many_requests(retry_after: int | None = 1) -> Fault:
    return Fault(FaultKind.TOO_MANY_REQUESTS, 429, retry_after)


def primary_limit(reset_in: int = 30) -> Fault:
    return Fault(FaultKind.PRIMARY_LIMIT, 403, None, reset_in)


class FaultPlan:
    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)  # noqa: S311  (repeatable faults, not cryptography)
        self._lock = threading.Lock()
        self._script: deque[Fault | None] = deque()
        self._script_operations: frozenset[str] | None = None
        self._rate = 0.0
        self._rate_faults: tuple[Fault, ...] = ()
        self._rate_operations: frozenset[str] | None = None
        self.injected: list[tuple[str, Fault]] = []

    def script(self, *faults: Fault | None, operations: Iterable[str] | None = None) -> None:
        """Answer the next matching requests with these faults (``None``: let one through)."""
        with self._lock:
            self._script.extend(faults)
            self._script_operations = None if operations is None else frozenset(operations)

    def set_rate(
        self, rate: float, faults: Iterable[Fault] = (), operations: Iterable[str] | None = None
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rate must be within 0..1")
        chosen = tuple(faults) or (server_error(), secondary_limit(1), too_many_requests(1))
        with self._lock:
            self._rate, self._rate_faults = rate, chosen
            self._rate_operations = None if operations is None else frozenset(operations)

    def clear(self) -> None:
        with self._lock:
            self._script.clear()
            self._rate = 0.0

    def next_fault(self, operation_id: str) -> Fault | None:
        with self._lock:
            fault = None
            if self._script and _applies(self._script_operations, operation_id):
                fault = self._script.popleft()
            elif (
                self._rate
                and _applies(self._rate_operations, operation_id)
                and self._rng.random() < self._rate
            ):
                fault = self._rng.choice(self._rate_faults)
            if fault is not None:
                self.injected.append((operation_id, fault))
            return fault


class JitCeiling:
    """At most ``per_minute`` generate-jitconfig calls in any rolling 60 seconds."""

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> Fault | None:
        with self._lock:
            now = self._clock()
            while self._calls and self._calls[0] <= now - 60.0:
                self._calls.popleft()
            if len(self._calls) >= self.per_minute:
                wait = max(1, math.ceil(self._calls[0] + 60.0 - now))
                return secondary_limit(retry_after=wait)
            self._calls.append(now)
            return None


def _applies(operations: frozenset[str] | None, operation_id: str) -> bool:
    return operations is None or operation_id in operations
