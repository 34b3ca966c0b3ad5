"""What every use case is given: settings, ports, a clock and a deadline."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..ports import (
    ClassSizesSource,
    Clock,
    GitHubPort,
    ImageBuilder,
    ImageRegistry,
    ImageStore,
    JitStore,
    Metrics,
    NullMetrics,
    RunnerStore,
    SecretSource,
    TaskLauncher,
    Waker,
)
from ..settings import Settings

log = logging.getLogger("ecsrunner")


@dataclass(frozen=True)
class Deadline:
    """A point in monotonic time after which a use case stops starting new remote work."""

    at: float
    monotonic: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, monotonic: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(monotonic() + seconds, monotonic)

    def remaining(self) -> float:
        return self.at - self.monotonic()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


@dataclass
class Deps:
    settings: Settings
    store: RunnerStore
    images: ImageStore
    github: GitHubPort
    launcher: TaskLauncher
    registry: ImageRegistry
    builder: ImageBuilder | None
    jit: JitStore
    classes: ClassSizesSource
    secrets: SecretSource
    clock: Clock
    metrics: Metrics = field(default_factory=NullMetrics)
    waker: Waker | None = None
