"""One measured invocation: wall time, the remote calls it made and the time spent inside them."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from ecsrunner_sandbox.github_standin import GitHubStandIn

from .meters import AwsMeter, GitHubMeter, RemoteCall, cpu_seconds, seconds

_REPO_PATH = re.compile(r"^/repos/[^/]+/[^/]+|^/orgs/[^/]+")
_NUMBER = re.compile(r"/\d+(?=/|$)")


def github_kind(method: str, path: str) -> str:
    """``github.POST {scope}/actions/runners/generate-jitconfig``: the call without its ids."""
    return f"github.{method} " + _NUMBER.sub("/{id}", _REPO_PATH.sub("{scope}", path))


@dataclass
class Measurement:
    result: Any
    wall: float
    aws: list[RemoteCall]
    github_attempts: list[RemoteCall]
    github_calls: list[tuple[str, str, int]] = field(default_factory=list)
    cpu: float = 0.0  # this thread's CPU time for the whole invocation

    @property
    def aws_seconds(self) -> float:
        return seconds(self.aws)

    @property
    def github_seconds(self) -> float:
        return seconds(self.github_attempts)

    @property
    def remote_seconds(self) -> float:
        return self.aws_seconds + self.github_seconds

    @property
    def overhead(self) -> float:
        """Time not spent waiting for AWS or GitHub: our code, boto3/requests serialisation, logging."""
        return max(self.wall - self.remote_seconds, 0.0)

    @property
    def cpu_overhead(self) -> float:
        """The same on this thread's CPU clock: what other processes on the machine cannot inflate."""
        return max(self.cpu - cpu_seconds(self.aws) - cpu_seconds(self.github_attempts), 0.0)

    def counts(self) -> Counter[str]:
        found = Counter(call.target for call in self.aws)
        found.update(github_kind(method, path) for method, path, _ in self.github_calls)
        return found

    @property
    def read_units(self) -> float:
        return sum(call.read_units for call in self.aws)

    @property
    def write_units(self) -> float:
        return sum(call.write_units for call in self.aws)


@dataclass
class Probe:
    """Meters on one boto3 session (the code under test's), GitHub attempts and the stand-in's log."""

    session: boto3.Session
    aws: AwsMeter
    github: GitHubMeter
    standin: GitHubStandIn

    def call(self, action: Callable[[], Any]) -> Measurement:
        aws_mark, github_mark, standin_mark = self.aws.mark(), self.github.mark(), len(self.standin.calls)
        start, cpu_start = time.perf_counter(), time.thread_time()
        result = action()
        wall, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
        return Measurement(
            result,
            wall,
            self.aws.since(aws_mark),
            self.github.since(github_mark),
            list(self.standin.calls[standin_mark:]),
            cpu,
        )
