"""When deferred launches are due: a one-time wake-up of the janitor, so a runner waiting for a
retry's backoff or for the end of a GitHub pause is launched then, not at the next scheduled run.

The deployment has one wake-up schedule. Every janitor run, and every launch that fails transiently,
sets it to the earliest due launch (never before the pause ends: nothing can launch during it), so
whichever write comes last still names a time at or before the next due launch that nothing else
covers; the run it starts sets it again for what it leaves behind.
"""

from __future__ import annotations

from datetime import datetime

from .context import Deps, log
from .github_pause import github_paused_until


def next_launch_due_at(deps: Deps) -> datetime | None:
    """The earliest time a waiting runner's launch falls due, after now; None if nothing waits."""
    due = deps.store.next_waiting_due(deps.clock.now())
    paused_until = github_paused_until(deps)
    if due is not None and paused_until is not None and due < paused_until:
        return paused_until
    return due


def wake_for_next_launch(deps: Deps) -> datetime | None:
    """Schedule the janitor for the next due launch; returns when (None: nothing to wait for)."""
    if deps.waker is None:
        return None
    try:
        when = next_launch_due_at(deps)
        if when is not None:
            deps.waker.wake_at(when)
    except Exception as exc:  # the scheduled janitor run still launches it, later
        log.warning("could not schedule the janitor for the next due launch: %s", exc)
        return None
    return when
