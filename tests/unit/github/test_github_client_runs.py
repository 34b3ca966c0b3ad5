"""GitHubClient's reconciliation reads against the stand-in: workflow runs by status, a run's jobs
and the App installation's repositories, one request per page; typed errors, retries and no token in
any message, as for the runner endpoints."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from ecsrunner_core.adapters.github import AppAuth, GitHubClient
from ecsrunner_core.ports import (
    GitHubAuthError,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubUnavailable,
    Page,
)
from ecsrunner_sandbox.github_faults import forbidden, server_error, too_many_requests
from ecsrunner_sandbox.github_runner_sim import RunnerSimulator
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn, StandInApp, serving
from ecsrunner_sandbox.github_state import org_scope, repo_scope

from tests.unit.github.support import ORG, REPO, START_EPOCH, FakeTime

MakeClient = Callable[..., GitHubClient]
T = TypeVar("T")
START = datetime.fromtimestamp(START_EPOCH, UTC)
APP_ID = 4711


@pytest.fixture
def sim(github: GitHubStandIn) -> RunnerSimulator:
    return RunnerSimulator(github.state)


def _all_pages(read: Callable[[str | None], Page[T]]) -> list[Page[T]]:
    pages = [read(None)]
    while pages[-1].next is not None:
        pages.append(read(pages[-1].next))
    return pages


def _start(sim: RunnerSimulator, client: GitHubClient, labels: list[str]) -> int:
    """A runner registers, comes online and takes the oldest job it can run; its id."""
    jit = client.generate_jitconfig(name=f"r-{len(sim.state.runners)}", labels=labels, runner_group_id=1)
    runner = sim.runner_online(jit.encoded_jit_config)
    assert sim.assign_job(runner.id) is not None
    return runner.id


def test_queued_runs_come_one_page_per_request_newest_first(
    github: GitHubStandIn, client: GitHubClient, sim: RunnerSimulator
) -> None:
    queued = [sim.queue_job(REPO, ["self-hosted"]) for _ in range(205)]
    sim.queue_job("octo-org/other-repo", ["self-hosted"])

    pages = _all_pages(lambda page: client.list_workflow_runs(REPO, "queued", page))

    assert [(len(page.items), page.next) for page in pages] == [(100, "2"), (100, "3"), (5, None)]
    ids = [run.id for page in pages for run in page.items]
    assert ids == sorted((job.run_id for job in queued), reverse=True)
    assert {(run.repository, run.status, run.created_at) for page in pages for run in page.items} == {
        (REPO, "queued", START)
    }
    assert [(method, status) for method, _, status in github.calls] == [("GET", 200)] * 3


def test_runs_are_filtered_by_the_status_github_derives(
    github: GitHubStandIn, client: GitHubClient, sim: RunnerSimulator
) -> None:
    (queued,) = sim.queue_run(REPO, [["self-hosted", "gpu"]])
    started, still_queued = sim.queue_run(REPO, [["self-hosted", "linux"], ["self-hosted", "gpu"]])
    (waiting,) = sim.queue_run(REPO, [["self-hosted", "gpu"]], awaiting_approval=True)
    (done,) = sim.queue_run(REPO, [["self-hosted", "arm64"]])
    _start(sim, client, ["self-hosted", "linux"])
    _start(sim, client, ["self-hosted", "arm64"])
    sim.complete_job(done.id, "success")

    def run_ids(status: str) -> set[int]:
        page = client.list_workflow_runs(REPO, status)
        assert page.next is None and all(run.status in (status, "completed") for run in page.items)
        return {run.id for run in page.items}

    assert run_ids("queued") == {queued.run_id}
    assert run_ids("in_progress") == {started.run_id}  # a matrix with one job running, one queued
    assert run_ids("waiting") == {waiting.run_id}
    assert run_ids("completed") == {done.run_id}
    assert run_ids("success") == {done.run_id}  # GitHub's filter also takes a conclusion
    assert still_queued.status == "queued"


def test_a_runs_jobs_are_its_latest_attempts(
    github: GitHubStandIn, client: GitHubClient, sim: RunnerSimulator
) -> None:
    matrix = sim.queue_run(REPO, [["self-hosted", f"shard-{n}"] for n in range(150)], workflow="Tests")
    run_id = matrix[0].run_id

    pages = _all_pages(lambda page: client.list_run_jobs(REPO, run_id, page))

    assert [(len(page.items), page.next) for page in pages] == [(100, "2"), (50, None)]
    jobs = [job for page in pages for job in page.items]
    assert [job.id for job in jobs] == [job.id for job in matrix]
    assert jobs[7].labels == ("self-hosted", "shard-7")
    assert (jobs[7].run_id, jobs[7].name, jobs[7].workflow_name, jobs[7].status) == (
        run_id,
        "build (8)",
        "Tests",
        "queued",
    )
    assert jobs[7].created_at == START

    rerun = sim.rerun(run_id)

    latest = client.list_run_jobs(REPO, run_id)
    assert [job.id for job in latest.items] == [job.id for job in rerun[:100]]
    assert not {job.id for job in latest.items} & {job.id for job in matrix}


def test_an_unknown_run_raises_not_found(client: GitHubClient) -> None:
    with pytest.raises(GitHubNotFound) as raised:
        client.list_run_jobs(REPO, 12345)
    assert raised.value.status == 404


@pytest.fixture
def app_github(fake_time: FakeTime, app_key: tuple[str, Any]) -> Iterator[GitHubStandIn]:
    app = StandInApp(
        APP_ID, app_key[1], installed_scopes=frozenset({org_scope(ORG), repo_scope("someone/shared")})
    )
    with serving(pat=DEFAULT_PAT, app=app, clock=fake_time.time) as standin:
        yield standin


def test_installation_repositories_are_the_ones_the_app_is_installed_on(
    app_github: GitHubStandIn, make_client: MakeClient, app_key: tuple[str, Any], fake_time: FakeTime
) -> None:
    mine = [f"{ORG}/repo-{n:03d}" for n in range(149)]
    for name in ["someone/else", *mine, "someone/shared"]:
        app_github.state.repository_id(name)
    client = make_client(app_github, auth=AppAuth(APP_ID, app_key[0], clock=fake_time.time))

    pages = _all_pages(client.list_installation_repositories)

    assert [(len(page.items), page.next) for page in pages] == [(100, "2"), (50, None)]
    assert [name for page in pages for name in page.items] == [*mine, "someone/shared"]
    assert [path for _, path, _ in app_github.calls] == [
        f"/repos/{REPO}/installation",  # the App is installed on the repository's organisation
        "/app/installations/4242/access_tokens",
        "/installation/repositories",
        "/installation/repositories",
    ]


def test_installation_repositories_need_app_credentials(
    app_github: GitHubStandIn, make_client: MakeClient
) -> None:
    client = make_client(app_github)  # the PAT

    with pytest.raises(GitHubAuthError) as raised:
        client.list_installation_repositories()

    assert raised.value.status is None
    assert app_github.calls == []  # decided without asking GitHub, which would answer 403


@pytest.mark.parametrize(
    "call",
    [
        lambda client: client.list_workflow_runs(REPO, "queued"),
        lambda client: client.list_run_jobs(REPO, 9_000_000_001),
        lambda client: client.get_job(REPO, 30_000_000_001),
        lambda client: client.get_runner(1001),
    ],
    ids=["runs", "run jobs", "job", "runner"],
)
def test_reads_are_retried_after_server_errors_and_limits(
    github: GitHubStandIn, client: GitHubClient, sim: RunnerSimulator, fake_time: FakeTime, call: Any
) -> None:
    sim.queue_job(REPO, ["self-hosted"])
    client.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)
    github.calls.clear()
    github.faults.script(server_error(502), too_many_requests(retry_after=2))

    result = call(client)

    assert result is not None
    assert [status for _, _, status in github.calls] == [502, 429, 200]
    assert fake_time.sleeps[1] == 2.0


def test_a_forbidden_read_is_not_retried_and_names_no_token(
    github: GitHubStandIn, client: GitHubClient, fake_time: FakeTime
) -> None:
    github.faults.script(forbidden())

    with pytest.raises(GitHubAuthError) as raised:
        client.list_workflow_runs(REPO, "queued")

    assert raised.value.status == 403
    assert DEFAULT_PAT not in str(raised.value)
    assert f"repos/{REPO}/actions/runs" in str(raised.value)
    assert fake_time.sleeps == []


def test_limits_outlasting_the_budget_raise_rate_limited(
    github: GitHubStandIn, make_client: MakeClient, fake_time: FakeTime
) -> None:
    github.faults.set_rate(1.0, [too_many_requests(retry_after=4)])
    client = make_client(github, budget_seconds=10.0)

    with pytest.raises(GitHubRateLimited) as raised:
        client.list_workflow_runs(REPO, "queued")

    assert raised.value.retry_after == 4.0
    assert fake_time.sleeps == [4.0, 4.0]


def test_server_errors_outlasting_the_budget_raise_unavailable(
    github: GitHubStandIn, make_client: MakeClient
) -> None:
    github.faults.set_rate(1.0, [server_error(500)])
    client = make_client(github, budget_seconds=3.0)

    with pytest.raises(GitHubUnavailable) as raised:
        client.get_job(REPO, 1)

    assert raised.value.status == 500
    assert DEFAULT_PAT not in str(raised.value)
