"""One Services object per warm container, built on the first invocation."""

from __future__ import annotations

from ecsrunner_core.usecases.context import Deadline, Deps
from ecsrunner_core.wiring import Services, build_services

from .observability import PowertoolsMetricsAdapter

# Leave time to write the response and flush metrics before Lambda's own timeout.
SAFETY_MARGIN_SECONDS = 3.0
_services: Services | None = None


def deps(github_budget_seconds: float) -> Deps:
    global _services  # noqa: PLW0603 - the per-container cache Lambda expects
    if _services is None:
        _services = build_services(
            metrics=PowertoolsMetricsAdapter(), github_budget_seconds=github_budget_seconds
        )
    return _services.deps()


def deadline(context: object, cap_seconds: float | None = None) -> Deadline:
    remaining_ms = getattr(context, "get_remaining_time_in_millis", lambda: 30_000)()
    seconds = remaining_ms / 1000 - SAFETY_MARGIN_SECONDS
    return Deadline.after(min(seconds, cap_seconds) if cap_seconds is not None else seconds)
