"""Shared helpers for the GitHub adapter tests (import as ``tests.unit.github.support``)."""

from __future__ import annotations

from dataclasses import dataclass, field

START_EPOCH = 1_750_000_000.0
REPO = "octo-org/octo-repo"
ORG = "octo-org"


@dataclass
class FakeTime:
    """One timeline for everything: the client's monotonic and wall clocks, its sleep, and the
    stand-in's clock. ``sleep`` records what was asked for and moves time on at once."""

    now: float = START_EPOCH
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds
