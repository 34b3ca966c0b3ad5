"""Making a run repeat exactly: seeded runner names, and the store's conflict backoff counted
instead of slept.

Runner names come from ``secrets.token_bytes``; records created at the same (fake) time are ordered
by name in the status index, so random names would change the order in which the janitor and
``launch_waiting`` visit them from run to run. The DynamoDB store sleeps 10-200 ms between version
conflict retries: the runs here count those sleeps (each is one retried conflict) instead.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from unittest import mock

from ecsrunner_core.adapters import dynamodb_store
from ecsrunner_core.domain import names


@dataclass
class SeededTokens:
    """Stands in for the ``secrets`` module inside ``ecsrunner_core.domain.names``."""

    rng: random.Random

    def token_bytes(self, count: int) -> bytes:
        return self.rng.randbytes(count)


@dataclass
class CountedSleeps:
    """Stands in for the ``time`` module inside the DynamoDB store: ``sleep`` is counted, the rest
    is the real module."""

    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)


@contextmanager
def repeatable(seed: int) -> Iterator[CountedSleeps]:
    sleeps = CountedSleeps()
    with (
        mock.patch.object(names, "secrets", SeededTokens(random.Random(seed))),
        mock.patch.object(dynamodb_store, "time", sleeps),
    ):
        yield sleeps
