"""The pure retry policy: classifying GitHub responses, and delays inside the budget."""

from __future__ import annotations

import random

import pytest
from ecsrunner_core.adapters.github.retry import (
    SECONDARY_MIN_WAIT_SECONDS,
    Failure,
    FailureKind,
    RetryPolicy,
    classify,
    parse_retry_after,
)
from hypothesis import given, settings
from hypothesis import strategies as st

NOW = 1_750_000_000.0
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


@pytest.mark.parametrize(
    ("status", "headers", "message", "expected"),
    [
        (500, {}, "", Failure(FailureKind.SERVER)),
        (503, {"retry-after": "7"}, "", Failure(FailureKind.SERVER, 7.0)),
        (
            403,
            {"retry-after": "30", "x-ratelimit-remaining": "4000"},
            SECONDARY,
            Failure(FailureKind.SECONDARY_LIMIT, 30.0),
        ),
        (403, {"x-ratelimit-remaining": "4000"}, SECONDARY, Failure(FailureKind.SECONDARY_LIMIT, 60.0)),
        (
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 90)},
            SECONDARY,
            Failure(FailureKind.SECONDARY_LIMIT, 90.0),
        ),
        (429, {"retry-after": "2"}, "", Failure(FailureKind.SECONDARY_LIMIT, 2.0)),
        (429, {}, "", Failure(FailureKind.SECONDARY_LIMIT, 60.0)),
        (
            429,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 12)},
            "API rate limit exceeded",
            Failure(FailureKind.PRIMARY_LIMIT, 12.0),
        ),
        (
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) - 5)},
            "API rate limit exceeded",
            Failure(FailureKind.PRIMARY_LIMIT, 0.0),
        ),
        (
            403,
            {"x-ratelimit-remaining": "0"},
            "API rate limit exceeded",
            Failure(FailureKind.PRIMARY_LIMIT, 60.0),
        ),
        (403, {"x-ratelimit-remaining": "4999"}, "Resource not accessible by integration", None),
        (401, {}, "Bad credentials", None),
        (404, {}, "Not Found", None),
        (409, {}, "Already exists", None),
        (422, {"retry-after": "1"}, "Validation Failed", None),
    ],
)
def test_classify(status: int, headers: dict[str, str], message: str, expected: Failure | None) -> None:
    assert classify(status, headers, message, NOW) == expected


def test_retry_after_as_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490.0) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_a_wait_github_asked_for_is_honoured_when_it_fits() -> None:
    policy = RetryPolicy(budget_seconds=20.0)
    rng = random.Random(0)

    assert policy.next_delay(Failure(FailureKind.SECONDARY_LIMIT, 5.0), 1, 2.0, rng) == 5.0
    assert policy.next_delay(Failure(FailureKind.SECONDARY_LIMIT, 18.0), 1, 2.0, rng) == 18.0
    assert policy.next_delay(Failure(FailureKind.SECONDARY_LIMIT, 18.5), 1, 2.0, rng) is None
    assert (
        policy.next_delay(Failure(FailureKind.PRIMARY_LIMIT, SECONDARY_MIN_WAIT_SECONDS), 1, 0.0, rng) is None
    )


def test_backoff_grows_to_its_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)

    assert [policy.backoff_cap(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert policy.backoff_cap(10_000) == 8.0


def test_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    rng = random.Random(0)

    assert policy.next_delay(Failure(FailureKind.SERVER), 2, 0.0, rng) is not None
    assert policy.next_delay(Failure(FailureKind.SERVER), 3, 0.0, rng) is None


def test_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="non-negative"):
        RetryPolicy(budget_seconds=-1)


failures = st.builds(
    Failure,
    kind=st.sampled_from(list(FailureKind)),
    wait=st.one_of(st.none(), st.floats(min_value=0.0, max_value=120.0)),
)


@settings(derandomize=True, max_examples=300)
@given(
    budget=st.floats(min_value=0.0, max_value=60.0),
    base=st.floats(min_value=0.0, max_value=5.0),
    cap=st.floats(min_value=0.0, max_value=30.0),
    max_attempts=st.integers(min_value=1, max_value=12),
    seed=st.integers(min_value=0, max_value=2**32),
    outcomes=st.lists(st.tuples(failures, st.floats(min_value=0.0, max_value=15.0)), min_size=1, max_size=40),
)
def test_delays_stay_in_bounds_and_never_pass_the_budget(
    budget: float,
    base: float,
    cap: float,
    max_attempts: int,
    seed: int,
    outcomes: list[tuple[Failure, float]],
) -> None:
    """Replays the client's loop: each attempt takes some time and fails; the policy picks delays."""
    policy = RetryPolicy(budget_seconds=budget, base_delay=base, max_delay=cap, max_attempts=max_attempts)
    rng = random.Random(seed)
    elapsed = 0.0
    for attempts, (failure, request_seconds) in enumerate(outcomes, start=1):
        elapsed += request_seconds
        delay = policy.next_delay(failure, attempts, elapsed, rng)
        if delay is None:
            break
        assert attempts < max_attempts
        assert delay >= 0.0
        if failure.wait is not None:
            assert delay == failure.wait
        else:
            assert delay <= min(cap, policy.backoff_cap(attempts))
        elapsed += delay
        assert elapsed <= budget  # a sleep never ends past the budget
    else:
        assert len(outcomes) < max_attempts
