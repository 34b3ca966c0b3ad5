"""A deployment-wide pause of GitHub calls while GitHub rate-limits us.

GitHub asks integrations to stop calling while a secondary rate limit lasts; calling anyway prolongs
it. When a launch meets a rate limit, the time GitHub gave (Retry-After, or a minute) is stored, and
every launch in every invocation waits until then instead of calling: runners stay STARTING without
spending a launch attempt, and the janitor resumes them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .context import Deadline, Deps, log

PAUSE_NAME = "github"
DEFAULT_PAUSE = timedelta(seconds=60)
SLEEP_MARGIN_SECONDS = 10.0


def github_paused_until(deps: Deps) -> datetime | None:
    """The end of the current pause, or None."""
    until = deps.store.get_pause(PAUSE_NAME)
    return until if until is not None and until > deps.clock.now() else None


def pause_github(deps: Deps, retry_after: float | None) -> datetime:
    until = deps.clock.now() + max(DEFAULT_PAUSE, timedelta(seconds=retry_after or 0))
    current = github_paused_until(deps)
    if current is None or until > current:
        deps.store.set_pause(PAUSE_NAME, until)
        deps.metrics.count("GitHubRateLimitPauses")
        log.warning("GitHub rate limit: launches paused until %s", until.isoformat())
    return max(until, current or until)


def wait_out_github_pause(deps: Deps, deadline: Deadline | None) -> bool:
    """True when launches may call GitHub now, sleeping through a pause that ends within the deadline."""
    until = github_paused_until(deps)
    if until is None:
        return True
    wait = (until - deps.clock.now()).total_seconds()
    if deadline is None or wait > deadline.remaining() - SLEEP_MARGIN_SECONDS:
        return False
    deps.clock.sleep(wait)
    return True
