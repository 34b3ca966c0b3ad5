"""A deployment-wide pause of GitHub calls while GitHub rate-limits us.

GitHub asks integrations to stop calling while a secondary rate limit lasts; calling anyway prolongs
it. When a launch meets a rate limit, the time GitHub gave (Retry-After, or a minute) is stored, and
every launch in every invocation waits until then instead of calling: runners stay STARTING without
spending a launch attempt. The janitor is woken when the pause ends (a one-time schedule), so the
deferred launches resume then, not at the next scheduled run, and no invocation sleeps through it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .context import Deadline, Deps, log

PAUSE_NAME = "github"
DEFAULT_PAUSE = timedelta(seconds=60)
MIN_PAUSE_SECONDS = 1.0
SLEEP_MARGIN_SECONDS = 10.0
# A pause shorter than this is slept through by the janitor; a longer one ends with a wake-up.
MAX_SLEEP_SECONDS = 5.0


def github_paused_until(deps: Deps) -> datetime | None:
    """The end of the current pause, or None."""
    until = deps.store.get_pause(PAUSE_NAME)
    return until if until is not None and until > deps.clock.now() else None


def pause_github(deps: Deps, retry_after: float | None) -> datetime:
    # GitHub's Retry-After when it gave one (a ceiling that frees up in seconds is waited out in
    # seconds), else the minute its docs ask for.
    wait = DEFAULT_PAUSE if retry_after is None else timedelta(seconds=max(retry_after, MIN_PAUSE_SECONDS))
    until = deps.clock.now() + wait
    current = github_paused_until(deps)
    if current is None or until > current:
        deps.store.set_pause(PAUSE_NAME, until)
        deps.metrics.count("GitHubRateLimitPauses")
        log.warning("GitHub rate limit: launches paused until %s", until.isoformat())
        if deps.waker is not None:
            try:
                deps.waker.wake_at(until)
            except Exception as exc:  # any later invocation, or the scheduled janitor run, resumes them
                log.warning("could not schedule the janitor for the end of the pause: %s", exc)
    return max(until, current or until)


def resume_after_pause(deps: Deps) -> bool:
    """Called by every control-plane invocation: the first one after a pause ended wakes the
    janitor, which launches the runners the pause deferred (several at once), so they start within
    seconds of the pause's end, not at the next scheduled run. Costs nothing while no pause ended."""
    until = deps.store.get_pause(PAUSE_NAME)
    if until is None or until > deps.clock.now() or deps.waker is None:
        return False
    if not deps.store.claim_resume(PAUSE_NAME, until):
        return False
    log.info("GitHub pause of %s ended: waking the janitor", until.isoformat())
    try:
        deps.waker.wake_now()
    except Exception as exc:
        log.warning("could not wake the janitor after the pause: %s", exc)
        return False
    return True


def wait_out_github_pause(deps: Deps, deadline: Deadline | None) -> bool:
    """True when launches may call GitHub now, sleeping through a pause that ends within the deadline."""
    until = github_paused_until(deps)
    if until is None:
        return True
    wait = (until - deps.clock.now()).total_seconds()
    if deadline is None or wait > MAX_SLEEP_SECONDS or wait > deadline.remaining() - SLEEP_MARGIN_SECONDS:
        return False
    deps.clock.sleep(wait)
    return True
