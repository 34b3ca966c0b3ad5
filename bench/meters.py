"""Counting and timing remote calls: AWS through botocore event hooks, GitHub around requests.

``AwsMeter`` registers on one boto3 session: ``provide-client-params`` keeps the API parameters,
``before-call``/``after-call`` bracket the HTTP exchange (signing, sending, botocore's own retries and
parsing), so time between them is time spent in the remote call; serialising the request is ours.
``GitHubMeter`` times ``requests.Session.send`` (one HTTP attempt each, so a retried GitHub call shows
up as several attempts).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests
from ecsrunner_core.adapters.dynamodb_codec import PAUSE_PREFIX
from ecsrunner_core.usecases.github_pause import PAUSE_NAME

from .dynamodb_units import request_units

_NUMERIC_SEGMENT = re.compile(r"/\d+(?=/|$)")


@dataclass(frozen=True)
class RemoteCall:
    target: str  # "dynamodb.GetItem", "github.POST /repos/{o}/{r}/actions/runners/generate-jitconfig"
    seconds: float
    status: int | None = None
    read_units: float = 0.0
    write_units: float = 0.0
    scanned: int | None = None  # Query/Scan ScannedCount: items DynamoDB read
    returned: int | None = None  # Query/Scan Count
    finished_at: float = 0.0  # the meter's clock when the call returned
    index: str | None = None  # Query: the IndexName
    cpu_seconds: float = 0.0  # this thread's CPU time inside the call (time.thread_time)


def aws_target(service: str, operation: str, params: dict[str, Any]) -> str:
    """``dynamodb.GetItem``; reads and writes of the GitHub pause item are told apart from runner
    records (``dynamodb.GetItem (PAUSE#github)``): the store caches the pause for a few seconds per
    container, so how often it is read depends on time, not on the input."""
    target = f"{service}.{operation}"
    if service == "dynamodb" and operation in ("GetItem", "PutItem"):
        key = params.get("Key") or params.get("Item") or {}
        pk = str((key.get("pk") or {}).get("S", ""))
        if pk.startswith(PAUSE_PREFIX):
            return f"{target} ({pk})"
    return target


PAUSE_READ = f"dynamodb.GetItem ({PAUSE_PREFIX}{PAUSE_NAME})"


class AwsMeter:
    def __init__(self, session: boto3.Session, clock: Callable[[], float] = time.monotonic) -> None:
        self.calls: list[RemoteCall] = []
        self._clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        session.events.register("provide-client-params", self._params)
        session.events.register("before-call", self._before)
        session.events.register("after-call", self._after)
        session.events.register("after-call-error", self._error)

    def _stack(self) -> list[dict[str, Any]]:
        stack: list[dict[str, Any]] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self._stack().append({"params": dict(params), "model": model})

    def _before(self, model: Any, **_: Any) -> None:
        stack = self._stack()
        if stack:
            stack[-1]["start"] = time.perf_counter()
            stack[-1]["cpu_start"] = time.thread_time()

    def _finish(self, model: Any, status: int | None, parsed: dict[str, Any]) -> None:
        stack = self._stack()
        if not stack:
            return
        pending = stack.pop()
        seconds = time.perf_counter() - pending.get("start", time.perf_counter())
        cpu = time.thread_time() - pending.get("cpu_start", time.thread_time())
        service = model.service_model.service_name
        reads = writes = 0.0
        scanned = returned = None
        if service == "dynamodb" and (status or 500) < 300:
            reads, writes = request_units(model.name, pending["params"], parsed)
            if model.name in ("Query", "Scan"):
                scanned, returned = parsed.get("ScannedCount"), parsed.get("Count")
        call = RemoteCall(
            aws_target(service, model.name, pending["params"]),
            seconds,
            status,
            reads,
            writes,
            scanned,
            returned,
            self._clock(),
            pending["params"].get("IndexName"),
            cpu,
        )
        with self._lock:
            self.calls.append(call)

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self._finish(model, getattr(http_response, "status_code", None), parsed)

    def _error(self, model: Any, **_: Any) -> None:
        self._finish(model, None, {})

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> list[RemoteCall]:
        return self.calls[mark:]


class GitHubMeter:
    """Times every HTTP attempt made with requests while active (the GitHub client is the only user)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.calls: list[RemoteCall] = []
        self._clock = clock
        self._lock = threading.Lock()

    @contextmanager
    def active(self) -> Iterator[GitHubMeter]:
        original = requests.Session.send
        meter = self

        def timed_send(session: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> Any:
            start, cpu_start = time.perf_counter(), time.thread_time()
            status = None
            try:
                response = original(session, request, **kwargs)
                status = response.status_code
                return response
            finally:
                path = _NUMERIC_SEGMENT.sub("/{id}", urlsplit(request.url or "").path)
                call = RemoteCall(
                    f"github.{request.method} {path}",
                    time.perf_counter() - start,
                    status,
                    finished_at=meter._clock(),
                    cpu_seconds=time.thread_time() - cpu_start,
                )
                with meter._lock:
                    meter.calls.append(call)

        requests.Session.send = timed_send  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            requests.Session.send = original  # type: ignore[method-assign]

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> list[RemoteCall]:
        return self.calls[mark:]


def counts(calls: Sequence[RemoteCall]) -> Counter[str]:
    return Counter(call.target for call in calls)


def seconds(calls: Sequence[RemoteCall]) -> float:
    return sum(call.seconds for call in calls)


def cpu_seconds(calls: Sequence[RemoteCall]) -> float:
    return sum(call.cpu_seconds for call in calls)
