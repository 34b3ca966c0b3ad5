"""The GitHub stand-in itself: its OpenAPI checks catch bad traffic, and its auth, faults and JIT
ceiling behave as documented. Raw requests, no client, so these tests can send what a client never
would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from ecsrunner_sandbox import github_api_ops
from ecsrunner_sandbox.github_faults import FaultKind, server_error
from ecsrunner_sandbox.github_replies import Reply
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn, serving

from tests.unit.github.support import REPO, FakeTime

HEADERS = {
    "Authorization": f"Bearer {DEFAULT_PAT}",
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
}
JIT_BODY = {"name": "r1", "runner_group_id": 1, "labels": ["self-hosted"]}


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update(HEADERS)
        yield session


def _jit_url(github: GitHubStandIn) -> str:
    return f"{github.api_url}/repos/{REPO}/actions/runners/generate-jitconfig"


def test_request_breaking_the_description_is_rejected_and_recorded(
    github: GitHubStandIn, http: requests.Session
) -> None:
    response = http.post(_jit_url(github), json={**JIT_BODY, "labels": []})

    assert response.status_code == 422
    assert response.json()["message"] == "Invalid request."
    assert len(github.violations) == 1
    assert "generate-runner-jitconfig-for-repo" in github.violations[0]
    assert "non-empty" in github.violations[0]
    assert github.state.runners == {}
    github.violations.clear()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "recorded"),
    [
        ("GET", "/user", None, 404, "not a documented operation"),
        (
            "GET",
            f"/repos/{REPO}/actions/runners?per_page=100&bogus=1",
            None,
            422,
            "undocumented query parameter",
        ),
        ("GET", f"/repos/{REPO}/actions/runners?per_page=many", None, 422, "per_page"),
        (
            "POST",
            f"/repos/{REPO}/actions/runners/generate-jitconfig",
            {**JIT_BODY, "group": 2},
            422,
            "'group'",
        ),
        ("POST", f"/repos/{REPO}/actions/runners/generate-jitconfig", {"name": "r1"}, 422, "required"),
        ("GET", f"/repos/{REPO}/actions/jobs/not-a-number", None, 422, "job_id"),
        ("POST", f"/repos/{REPO}/actions/runners/registration-token", None, 404, "not implemented"),
    ],
)
def test_undocumented_or_invalid_requests_are_recorded(
    github: GitHubStandIn,
    http: requests.Session,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    recorded: str,
) -> None:
    response = http.request(method, github.api_url + path, json=body)

    assert response.status_code == status
    assert any(recorded in violation for violation in github.violations), github.violations
    github.violations.clear()


def test_unparsable_json_gets_400(github: GitHubStandIn, http: requests.Session) -> None:
    response = http.post(_jit_url(github), data=b"{", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["message"] == "Problems parsing JSON"
    assert github.violations
    github.violations.clear()


def test_missing_api_version_is_served_but_recorded(github: GitHubStandIn, http: requests.Session) -> None:
    del http.headers["X-GitHub-Api-Version"]

    response = http.get(f"{github.api_url}/rate_limit")

    assert response.status_code == 200
    assert github.violations == ["rate-limit/get: request without X-GitHub-Api-Version"]
    github.violations.clear()


def test_requests_outside_the_path_prefix_are_recorded(fake_time: FakeTime, http: requests.Session) -> None:
    with serving(path_prefix="api/v3/", clock=fake_time.time) as ghes:
        assert ghes.api_url.endswith("/api/v3")
        response = http.get(f"{ghes.origin}/rate_limit")
        assert response.status_code == 404
        assert "outside the API path prefix" in ghes.violations[0]
        ghes.violations.clear()


@pytest.mark.parametrize("authorization", [None, "Bearer ghp_wrong", "Basic abc", "Bearer "])
def test_wrong_or_missing_credentials_get_401(
    github: GitHubStandIn, http: requests.Session, authorization: str | None
) -> None:
    if authorization is None:
        del http.headers["Authorization"]
    else:
        http.headers["Authorization"] = authorization

    response = http.get(f"{github.api_url}/repos/{REPO}/actions/runners")

    assert response.status_code == 401
    assert github.violations == []  # a 401 is behaviour, not a broken contract


def test_stand_in_bug_in_a_response_is_recorded(
    github: GitHubStandIn, http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        github_api_ops.OPERATIONS, "rate-limit/get", lambda standin, request: Reply(200, {"resources": {}})
    )

    assert http.get(f"{github.api_url}/rate_limit").status_code == 200

    assert len(github.violations) == 1
    assert "stand-in response violates" in github.violations[0]
    assert "'rate' is a required property" in github.violations[0]
    github.violations.clear()


def test_pagination_headers(github: GitHubStandIn, http: requests.Session) -> None:
    for index in range(7):
        http.post(_jit_url(github), json={**JIT_BODY, "name": f"r{index}"})

    page = http.get(f"{github.api_url}/repos/{REPO}/actions/runners", params={"per_page": 3, "page": 2})

    assert [r["name"] for r in page.json()["runners"]] == ["r3", "r4", "r5"]
    assert page.json()["total_count"] == 7
    links = {rel: link["url"] for rel, link in page.links.items()}
    assert set(links) == {"next", "last", "first", "prev"}
    assert links["next"].endswith(f"/repos/{REPO}/actions/runners?per_page=3&page=3")
    assert links["last"].endswith("page=3") and links["first"].endswith("page=1")
    last = http.get(links["last"])
    assert [r["name"] for r in last.json()["runners"]] == ["r6"]
    assert set(last.links) == {"first", "prev"}
    named = http.get(f"{github.api_url}/repos/{REPO}/actions/runners", params={"name": "R2"})
    assert [r["name"] for r in named.json()["runners"]] == ["r2"]


def test_jit_config_ceiling_per_rolling_minute(fake_time: FakeTime, http: requests.Session) -> None:
    with serving(clock=fake_time.time, jit_ceiling_per_minute=3) as github:
        statuses = []
        for index in range(4):
            statuses.append(http.post(_jit_url(github), json={**JIT_BODY, "name": f"a{index}"}).status_code)
            fake_time.advance(10)
        assert statuses == [201, 201, 201, 403]

        limited = http.post(_jit_url(github), json={**JIT_BODY, "name": "b"})
        assert limited.status_code == 403
        assert "secondary rate limit" in limited.json()["message"]
        assert limited.headers["Retry-After"] == "20"  # at t=40; the call at t=0 leaves the window at t=60

        assert http.get(f"{github.api_url}/repos/{REPO}/actions/runners").status_code == 200
        fake_time.advance(19)
        assert http.post(_jit_url(github), json={**JIT_BODY, "name": "c"}).status_code == 403
        fake_time.advance(1)
        assert http.post(_jit_url(github), json={**JIT_BODY, "name": "d"}).status_code == 201


def test_fault_rate_is_repeatable_for_a_seed(fake_time: FakeTime, http: requests.Session) -> None:
    def run(seed: int) -> list[int]:
        with serving(clock=fake_time.time, seed=seed) as github:
            github.faults.set_rate(0.5)
            return [http.get(f"{github.api_url}/rate_limit").status_code for _ in range(30)]

    first = run(11)
    assert first == run(11)
    assert first != run(12)
    assert {200, 403, 429, 500} <= set(first)


def test_faults_can_target_one_operation(github: GitHubStandIn, http: requests.Session) -> None:
    github.faults.script(server_error(), operations={"actions/generate-runner-jitconfig-for-repo"})

    assert http.get(f"{github.api_url}/rate_limit").status_code == 200
    assert http.post(_jit_url(github), json=JIT_BODY).status_code == 500
    assert http.post(_jit_url(github), json=JIT_BODY).status_code == 201
    injected = [(operation, fault.kind) for operation, fault in github.faults.injected]
    assert injected == [("actions/generate-runner-jitconfig-for-repo", FaultKind.SERVER_ERROR)]


def test_primary_limit_is_enforced_per_hour(fake_time: FakeTime, http: requests.Session) -> None:
    with serving(clock=fake_time.time, primary_limit_per_hour=2) as github:
        url = f"{github.api_url}/repos/{REPO}/actions/runners"
        assert [http.get(url).status_code for _ in range(2)] == [200, 200]
        limited = http.get(url)
        assert limited.status_code == 403
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert int(limited.headers["X-RateLimit-Reset"]) == int(fake_time.now) + 3600
        assert http.get(f"{github.api_url}/rate_limit").json()["resources"]["core"]["remaining"] == 0
        fake_time.advance(3600)
        assert http.get(url).status_code == 200
