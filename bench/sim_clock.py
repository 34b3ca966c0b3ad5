"""A clock for the ceiling simulation: work takes its real time, waiting takes none.

``elapsed()`` is real seconds since the start plus every wait that was skipped: a GitHub client
``sleep`` (Retry-After, backoff) and the gap until the next scheduled janitor run. The core's clock,
the GitHub client's clocks, the stand-in's rate limiter and the deadlines all read it, so they agree
on what time it is while a 10-minute drain runs in a couple of real minutes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

MONOTONIC_ORIGIN = 10_000.0


class SimClock:
    def __init__(self, start: datetime) -> None:
        self._start_epoch = start.timestamp()
        self._real_origin = time.monotonic()
        self._frozen_real: float | None = None
        self.skipped = 0.0

    def elapsed(self) -> float:
        real = self._frozen_real if self._frozen_real is not None else time.monotonic()
        return real - self._real_origin + self.skipped

    def epoch(self) -> float:
        return self._start_epoch + self.elapsed()

    def monotonic(self) -> float:
        return MONOTONIC_ORIGIN + self.elapsed()

    def now(self) -> datetime:
        """The core's ``Clock`` port."""
        return datetime.fromtimestamp(self.epoch(), UTC)

    def sleep(self, seconds: float) -> None:
        self.skipped += max(seconds, 0.0)

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Work inside takes no simulated time (in AWS it runs concurrently); sleeps still count."""
        self._frozen_real = time.monotonic()
        try:
            yield
        finally:
            self._real_origin += time.monotonic() - self._frozen_real
            self._frozen_real = None

    def skip_to(self, elapsed: float) -> None:
        gap = elapsed - self.elapsed()
        if gap > 0:
            self.skipped += gap
