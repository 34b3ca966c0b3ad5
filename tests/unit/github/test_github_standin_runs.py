"""The stand-in's runs, jobs, installation and delivery operations seen with raw requests: how a
run's status follows its jobs, GitHub's filters and pagination, who may call what, and requests the
stand-in refuses."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from ecsrunner_sandbox.github_runner_sim import RunnerSimulator
from ecsrunner_sandbox.github_runs import run_status
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, PAT_ON_INSTALLATION_ENDPOINT, GitHubStandIn

from tests.unit.github.support import REPO

HEADERS = {
    "Authorization": f"Bearer {DEFAULT_PAT}",
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
}


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update(HEADERS)
        yield session


@pytest.fixture
def sim(github: GitHubStandIn) -> RunnerSimulator:
    return RunnerSimulator(github.state)


def _jobs(*states: str) -> list[Any]:
    def job(state: str) -> Any:
        status, _, conclusion = state.partition(":")
        return SimpleNamespace(status=status, conclusion=conclusion or None)

    return [job(state) for state in states]


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ((), ("queued", None)),
        (("queued", "queued"), ("queued", None)),
        (("queued", "in_progress"), ("in_progress", None)),
        (("completed:success", "queued"), ("in_progress", None)),
        (("waiting", "queued"), ("waiting", None)),
        (("completed:success", "waiting"), ("waiting", None)),
        (("in_progress", "waiting"), ("in_progress", None)),
        (("completed:success", "completed:skipped"), ("completed", "success")),
        (("completed:skipped", "completed:skipped"), ("completed", "skipped")),
        (("completed:success", "completed:cancelled", "completed:failure"), ("completed", "failure")),
        (("completed:success", "completed:cancelled"), ("completed", "cancelled")),
    ],
)
def test_a_runs_status_follows_its_jobs(states: tuple[str, ...], expected: tuple[str, str | None]) -> None:
    assert run_status(_jobs(*states)) == expected


def test_runs_page_with_link_headers(
    github: GitHubStandIn, http: requests.Session, sim: RunnerSimulator
) -> None:
    jobs = [sim.queue_job(REPO, ["self-hosted"]) for _ in range(5)]
    url = f"{github.api_url}/repos/{REPO}/actions/runs"

    page = http.get(url, params={"status": "queued", "per_page": 2, "page": 2})

    body = page.json()
    assert body["total_count"] == 5
    assert [run["id"] for run in body["workflow_runs"]] == [jobs[2].run_id, jobs[1].run_id]
    assert page.links["next"]["url"].endswith("status=queued&per_page=2&page=3")
    assert page.links["prev"]["url"].endswith("page=1")
    run = body["workflow_runs"][0]
    assert (run["status"], run["conclusion"], run["run_attempt"]) == ("queued", None, 1)
    assert run["repository"]["full_name"] == run["head_repository"]["full_name"] == REPO
    assert run["jobs_url"] == f"https://api.github.com/repos/{REPO}/actions/runs/{jobs[2].run_id}/jobs"
    assert run["head_sha"] == jobs[2].head_sha == run["head_commit"]["id"]
    assert http.get(url, params={"branch": "main", "event": "push"}).json()["total_count"] == 5
    assert http.get(url, params={"branch": "develop"}).json()["total_count"] == 0


def test_an_unimplemented_filter_is_refused_and_recorded(
    github: GitHubStandIn, http: requests.Session
) -> None:
    response = http.get(f"{github.api_url}/repos/{REPO}/actions/runs", params={"actor": "octocat"})

    assert response.status_code == 422
    assert github.violations == [
        "actions/list-workflow-runs-for-repo: the stand-in does not filter by ['actor']"
    ]
    github.violations.clear()


def test_jobs_of_every_attempt_or_the_latest(
    github: GitHubStandIn, http: requests.Session, sim: RunnerSimulator
) -> None:
    first = sim.queue_run(REPO, [["self-hosted"], ["self-hosted"]])
    second = sim.rerun(first[0].run_id)
    url = f"{github.api_url}/repos/{REPO}/actions/runs/{first[0].run_id}/jobs"

    latest = http.get(url).json()
    everything = http.get(url, params={"filter": "all"}).json()

    assert [(job["id"], job["run_attempt"]) for job in latest["jobs"]] == [(job.id, 2) for job in second]
    assert [job["id"] for job in everything["jobs"]] == [job.id for job in first + second]
    run = http.get(f"{github.api_url}/repos/{REPO}/actions/runs").json()["workflow_runs"][0]
    assert run["run_attempt"] == 2
    assert run["previous_attempt_url"].endswith(f"/runs/{first[0].run_id}/attempts/1")
    assert http.get(url.replace(str(first[0].run_id), "1")).status_code == 404


def test_installation_repositories_refuse_a_pat(github: GitHubStandIn, http: requests.Session) -> None:
    response = http.get(f"{github.api_url}/installation/repositories")

    assert response.status_code == 403
    assert response.json()["message"] == PAT_ON_INSTALLATION_ENDPOINT


def test_the_apps_hook_refuses_anything_but_a_jwt(github: GitHubStandIn, http: requests.Session) -> None:
    assert http.get(f"{github.api_url}/app/hook/deliveries").status_code == 401
    assert http.post(f"{github.api_url}/app/hook/deliveries/1/attempts").status_code == 401


def test_delivery_listing_refuses_a_malformed_cursor(github: GitHubStandIn, http: requests.Session) -> None:
    hook = github.hooks.repository_hook(REPO, lambda event, body, headers: 200, secret=b"s")
    url = f"{github.api_url}/repos/{REPO}/hooks/{hook.id}/deliveries"

    assert http.get(url, params={"cursor": "page-2"}).status_code == 400
    assert http.get(url, params={"cursor": "v1_1"}).json() == []
    assert http.get(f"{url}/7").status_code == 404
