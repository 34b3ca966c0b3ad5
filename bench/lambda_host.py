"""Running the real Lambda handler in this process, as a warm Lambda container would.

The handler module, Powertools and the core run unchanged. Two things are arranged from outside:
the container's ``Services`` are built once on our boto3 session (so the AWS meter sees the calls),
and the handler's stdout (Powertools logs and EMF metrics) is captured and counted, as CloudWatch Logs
would ingest it.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from ecsrunner_core.settings import Settings
from ecsrunner_core.wiring import Services

from .sandbox import environment, lambda_environment


@dataclass
class FakeLambdaContext:
    """The attributes Powertools reads from the Lambda context object."""

    function_name: str = "ecsr-control-plane"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ecsr-control-plane"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/ecsr-control-plane"
    log_stream_name: str = "2026/11/23/[$LATEST]bench"
    timeout_seconds: float = 30.0

    def get_remaining_time_in_millis(self) -> int:
        return int(self.timeout_seconds * 1000)


class CountingSink(io.TextIOBase):
    """A stdout that keeps only the number of bytes and lines written."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        self.lines += text.count("\n")
        return len(text)

    def writable(self) -> bool:
        return True


@contextlib.contextmanager
def warm_control_plane(
    settings: Settings, session: boto3.Session, github_budget_seconds: float
) -> Iterator[tuple[Any, CountingSink]]:
    """The control-plane ``handler`` with a warm container's Services on ``session``; stdout counted."""
    with environment(lambda_environment(settings)):
        from ecsrunner_lambda import control_plane, observability, runtime

        services = Services(
            Settings.from_env(),
            session,
            metrics=observability.PowertoolsMetricsAdapter(),
            github_budget_seconds=github_budget_seconds,
        )
        sink = CountingSink()
        handlers = [
            h
            for h in logging.getLogger(observability.logger.name).handlers
            if isinstance(h, logging.StreamHandler)
        ]
        for handler in handlers:
            handler.setStream(sink)
        previous = runtime._services
        runtime._services = services
        try:
            with contextlib.redirect_stdout(sink):
                yield control_plane.handler, sink
        finally:
            runtime._services = previous
            # Powertools bound these handlers to the process's stdout at import; the benchmark process
            # keeps them on a discarding sink from now on instead of printing every later core log line.
            for handler in handlers:
                handler.setStream(CountingSink())
