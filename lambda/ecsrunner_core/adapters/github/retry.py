"""When a GitHub call may be retried, and how long to wait first.

Pure: no I/O and no clock. The client reports what failed, how many attempts it made and how much
of its time budget is spent; the policy answers with a delay, or ``None`` to give up.

Rate limits follow GitHub's "Rate limits for the REST API" guidance: a primary limit is a 403 or
429 with ``x-ratelimit-remaining: 0`` (wait until ``x-ratelimit-reset``, epoch seconds); a
secondary limit is a 403 or 429 whose message says "secondary rate limit" (wait ``retry-after``
seconds if present, else until ``x-ratelimit-reset`` if remaining is 0, else at least a minute).
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

SECONDARY_LIMIT_TEXT = "secondary rate limit"
SECONDARY_MIN_WAIT_SECONDS = 60.0
MAX_BACKOFF_EXPONENT = 30


class FailureKind(enum.Enum):
    SERVER = "server error"
    NETWORK = "network error"
    PRIMARY_LIMIT = "primary rate limit"
    SECONDARY_LIMIT = "secondary rate limit"


@dataclass(frozen=True)
class Failure:
    """A retryable failure; ``wait`` is how long GitHub asked us to wait, if it said."""

    kind: FailureKind
    wait: float | None = None

    @property
    def rate_limited(self) -> bool:
        return self.kind in (FailureKind.PRIMARY_LIMIT, FailureKind.SECONDARY_LIMIT)


def classify(status: int, headers: Mapping[str, str], message: str, now_epoch: float) -> Failure | None:
    """The retryable failure a response represents, or ``None`` (success or a final error).

    ``headers`` must have lower-case names; ``message`` is the ``message`` of GitHub's error body.
    """
    retry_after = parse_retry_after(headers.get("retry-after"), now_epoch)
    if status >= 500:
        return Failure(FailureKind.SERVER, retry_after)
    if status not in (403, 429):
        return None
    reset_wait = _reset_wait(headers, now_epoch)
    if SECONDARY_LIMIT_TEXT in message.lower() or (status == 429 and reset_wait is None):
        wait = retry_after if retry_after is not None else reset_wait
        return Failure(FailureKind.SECONDARY_LIMIT, SECONDARY_MIN_WAIT_SECONDS if wait is None else wait)
    if reset_wait is not None:
        return Failure(FailureKind.PRIMARY_LIMIT, reset_wait)
    return None


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """``Retry-After`` as seconds from now: GitHub sends delta-seconds; an HTTP date also works."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when: datetime = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now_epoch)


def _reset_wait(headers: Mapping[str, str], now_epoch: float) -> float | None:
    """Seconds until ``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0, else ``None``."""
    if headers.get("x-ratelimit-remaining", "").strip() != "0":
        return None
    reset = headers.get("x-ratelimit-reset", "").strip()
    if not reset.isdigit():
        return SECONDARY_MIN_WAIT_SECONDS
    return max(0.0, float(reset) - now_epoch)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, inside a time budget and an attempt cap.

    A wait GitHub asked for (``Retry-After``, ``x-ratelimit-reset``) is honoured exactly when it
    fits in what is left of the budget; otherwise the policy gives up at once instead of sleeping
    past the budget, and the caller reports how long GitHub asked to wait.
    """

    budget_seconds: float = 20.0
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_attempts: int = 8

    def __post_init__(self) -> None:
        if self.budget_seconds < 0 or self.base_delay < 0 or self.max_delay < 0 or self.max_attempts < 1:
            raise ValueError("retry policy values must be non-negative and max_attempts at least 1")

    def backoff_cap(self, attempts: int) -> float:
        """Upper bound of the jittered delay after ``attempts`` failed attempts (1, 2, ...)."""
        exponent = min(max(attempts - 1, 0), MAX_BACKOFF_EXPONENT)
        return float(min(self.max_delay, self.base_delay * 2**exponent))

    def next_delay(self, failure: Failure, attempts: int, elapsed: float, rng: random.Random) -> float | None:
        """Seconds to sleep before the next attempt, or ``None`` to give up.

        ``attempts`` counts the attempts made so far; ``elapsed`` is the time spent since the first.
        """
        if attempts >= self.max_attempts:
            return None
        remaining = self.budget_seconds - elapsed
        delay = failure.wait if failure.wait is not None else rng.uniform(0.0, self.backoff_cap(attempts))
        if delay > remaining:
            return None
        return delay
