"""Retries against real injected failures from the stand-in: 5xx, secondary and primary rate limits,
429, lost responses, connection errors; and the typed errors when the budget runs out."""

from __future__ import annotations

import random
import socket
from collections.abc import Callable

import pytest
from ecsrunner_core.adapters.github import GitHubClient, PatAuth, RetryPolicy
from ecsrunner_core.ports import (
    GitHubAuthError,
    GitHubRateLimited,
    GitHubRunnerExists,
    GitHubUnavailable,
)
from ecsrunner_sandbox.github_faults import (
    FaultKind,
    forbidden,
    primary_limit,
    secondary_limit,
    server_error,
    too_many_requests,
)
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn
from ecsrunner_sandbox.github_state import repo_scope

from tests.unit.github.support import REPO, FakeTime

MakeClient = Callable[..., GitHubClient]
JIT = "/actions/runners/generate-jitconfig"


def _statuses(github: GitHubStandIn) -> list[int]:
    return [status for _, _, status in github.calls]


def test_server_error_then_success(github: GitHubStandIn, client: GitHubClient, fake_time: FakeTime) -> None:
    github.faults.script(server_error(502))

    assert list(client.list_runners()) == []

    assert _statuses(github) == [502, 200]
    assert len(fake_time.sleeps) == 1
    assert 0.0 <= fake_time.sleeps[0] <= RetryPolicy().backoff_cap(1)


def test_delete_is_retried_after_server_errors(github: GitHubStandIn, client: GitHubClient) -> None:
    jit = client.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)
    github.faults.script(server_error(500), server_error(503))

    client.delete_runner(jit.runner_id)

    assert _statuses(github)[-3:] == [500, 503, 204]
    assert github.state.runners_in(repo_scope(REPO)) == []


def test_secondary_limit_waits_exactly_retry_after(
    github: GitHubStandIn, client: GitHubClient, fake_time: FakeTime
) -> None:
    github.faults.script(secondary_limit(retry_after=3))

    jit = client.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)

    assert jit.runner_name == "r1"
    assert fake_time.sleeps == [3.0]
    assert _statuses(github) == [403, 201]


def test_too_many_requests_waits_retry_after(
    github: GitHubStandIn, client: GitHubClient, fake_time: FakeTime
) -> None:
    github.faults.script(too_many_requests(retry_after=2))

    client.rate_limit()

    assert fake_time.sleeps == [2.0]
    assert _statuses(github) == [429, 200]


def test_primary_limit_waits_until_reset(
    github: GitHubStandIn, client: GitHubClient, fake_time: FakeTime
) -> None:
    github.faults.script(primary_limit(reset_in=5))

    list(client.list_runners())

    assert fake_time.sleeps == [5.0]  # x-ratelimit-reset is now + 5 on the shared timeline
    assert _statuses(github) == [403, 200]


def test_secondary_limit_without_retry_after_gives_up_at_once(
    github: GitHubStandIn, client: GitHubClient, fake_time: FakeTime
) -> None:
    github.faults.script(secondary_limit(retry_after=None))

    with pytest.raises(GitHubRateLimited) as raised:
        client.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)

    assert raised.value.retry_after == 60.0  # GitHub: wait at least a minute; beyond the 20 s budget
    assert raised.value.status == 403
    assert fake_time.sleeps == []
    assert _statuses(github) == [403]


def test_primary_limit_beyond_the_budget_raises_rate_limited(
    github: GitHubStandIn, client: GitHubClient, fake_time: FakeTime
) -> None:
    github.faults.script(primary_limit(reset_in=1800))

    with pytest.raises(GitHubRateLimited) as raised:
        client.delete_runner(1)

    assert raised.value.retry_after == 1800.0
    assert fake_time.sleeps == []


def test_rate_limits_that_outlast_the_budget_stop_within_it(
    github: GitHubStandIn, make_client: MakeClient, fake_time: FakeTime
) -> None:
    github.faults.set_rate(1.0, [too_many_requests(retry_after=3)])
    client = make_client(github, budget_seconds=10.0)

    with pytest.raises(GitHubRateLimited) as raised:
        client.rate_limit()

    assert fake_time.sleeps == [3.0, 3.0, 3.0]  # a fourth wait would end past the 10 s budget
    assert raised.value.retry_after == 3.0
    assert _statuses(github) == [429] * 4


def test_server_errors_that_outlast_the_budget_raise_unavailable(
    github: GitHubStandIn, make_client: MakeClient, fake_time: FakeTime
) -> None:
    github.faults.set_rate(1.0, [server_error(500)])
    policy = RetryPolicy(budget_seconds=5.0, base_delay=1.0, max_delay=4.0, max_attempts=50)
    client = make_client(github, retry=policy)

    with pytest.raises(GitHubUnavailable) as raised:
        list(client.list_runners())

    assert raised.value.status == 500
    assert sum(fake_time.sleeps) <= 5.0
    assert len(github.calls) == len(fake_time.sleeps) + 1
    assert all(0.0 <= delay <= policy.backoff_cap(n + 1) for n, delay in enumerate(fake_time.sleeps))


def test_attempts_are_capped(github: GitHubStandIn, make_client: MakeClient) -> None:
    github.faults.set_rate(1.0, [server_error(503)])
    client = make_client(github, retry=RetryPolicy(max_attempts=3))

    with pytest.raises(GitHubUnavailable):
        client.rate_limit()

    assert _statuses(github) == [503, 503, 503]


def test_lost_jitconfig_response_retry_reports_runner_exists(
    github: GitHubStandIn, client: GitHubClient
) -> None:
    """GitHub registered the runner but the response was lost: the retry's 409 tells the caller."""
    github.faults.script(server_error(502, after_handling=True))

    with pytest.raises(GitHubRunnerExists):
        client.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)

    assert _statuses(github) == [502, 409]
    assert [r.name for r in github.state.runners_in(repo_scope(REPO))] == ["r1"]


def test_forbidden_that_is_not_a_rate_limit_is_not_retried(
    github: GitHubStandIn, client: GitHubClient, fake_time: FakeTime
) -> None:
    github.faults.script(forbidden())

    with pytest.raises(GitHubAuthError) as raised:
        list(client.list_runners())

    assert raised.value.status == 403
    assert fake_time.sleeps == []
    assert [fault.kind for _, fault in github.faults.injected] == [FaultKind.FORBIDDEN]


def test_connection_errors_raise_unavailable_within_the_budget(fake_time: FakeTime) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = GitHubClient(
        f"http://127.0.0.1:{closed_port}",
        PatAuth(DEFAULT_PAT),
        scope_repo=REPO,
        budget_seconds=3.0,
        sleep=fake_time.sleep,
        clock=fake_time.monotonic,
        wall_clock=fake_time.time,
        rng=random.Random(1),
    )

    with pytest.raises(GitHubUnavailable) as raised:
        client.rate_limit()

    assert raised.value.status is None
    assert "network error" in str(raised.value)
    assert fake_time.sleeps and sum(fake_time.sleeps) <= 3.0
