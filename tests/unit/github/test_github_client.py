"""GitHubClient against the loopback GitHub stand-in (real HTTP, every exchange checked against
GitHub's OpenAPI description by the stand-in; the ``github`` fixture fails on any violation)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import requests
from ecsrunner_core.adapters.github import GitHubClient, PatAuth
from ecsrunner_core.ports import (
    GitHubAuthError,
    GitHubError,
    GitHubInvalid,
    GitHubJob,
    GitHubNotFound,
    GitHubPort,
    GitHubRunner,
    GitHubRunnerExists,
)
from ecsrunner_sandbox.github_runner_sim import RunnerSimulator
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn, serving
from ecsrunner_sandbox.github_state import org_scope, repo_scope

from tests.unit.github.support import ORG, REPO, START_EPOCH, FakeTime

MakeClient = Callable[..., GitHubClient]
LABELS = ["self-hosted", "linux", "x64", "class:small"]


def _decoded(encoded: str) -> dict[str, object]:
    return dict(json.loads(base64.b64decode(encoded)))


@pytest.mark.parametrize("org", [False, True], ids=["repo", "org"])
def test_runner_lifecycle_in_repo_and_org_scope(
    github: GitHubStandIn, make_client: MakeClient, org: bool
) -> None:
    client = make_client(github, org=org)
    port: GitHubPort = client

    jit = port.generate_jitconfig(name="ecsr-abc-1", labels=LABELS, runner_group_id=1, work_folder="_work")

    assert jit.runner_name == "ecsr-abc-1"
    assert _decoded(jit.encoded_jit_config)["runner_id"] == jit.runner_id
    scope = org_scope(ORG) if org else repo_scope(REPO)
    registered = github.state.runner_in(scope, jit.runner_id)
    assert registered is not None and registered.labels == tuple(LABELS)
    listed = list(port.list_runners())
    assert [(r.id, r.name, r.status, r.busy) for r in listed] == [
        (jit.runner_id, "ecsr-abc-1", "offline", False)
    ]
    assert listed[0].labels == tuple(LABELS)
    assert [r.id for r in port.list_runners(name="ecsr-abc-1")] == [jit.runner_id]
    assert list(port.list_runners(name="someone-else")) == []

    port.delete_runner(jit.runner_id)

    assert github.state.runner_in(scope, jit.runner_id) is None
    prefix = f"/orgs/{ORG}" if org else f"/repos/{REPO}"
    assert [(m, p) for m, p, _ in github.calls] == [
        ("POST", f"{prefix}/actions/runners/generate-jitconfig"),
        ("GET", f"{prefix}/actions/runners"),
        ("GET", f"{prefix}/actions/runners"),
        ("GET", f"{prefix}/actions/runners"),
        ("DELETE", f"{prefix}/actions/runners/{jit.runner_id}"),
    ]


def test_every_request_carries_the_documented_headers(github: GitHubStandIn, fake_time: FakeTime) -> None:
    sent: list[requests.PreparedRequest] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: sent.append(response.request))
    client = GitHubClient(github.api_url, PatAuth(DEFAULT_PAT), scope_repo=REPO, session=session)

    client.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)
    list(client.list_runners())
    client.rate_limit()

    assert len(sent) == 3
    for request in sent:
        assert request.headers["Accept"] == "application/vnd.github+json"
        assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
        assert request.headers["User-Agent"].startswith("ecsrunner/")
        assert request.headers["Authorization"] == f"Bearer {DEFAULT_PAT}"
    assert json.loads(sent[0].body or b"") == {
        "name": "r1",
        "runner_group_id": 1,
        "labels": ["self-hosted"],
        "work_folder": "_work",
    }


def test_github_enterprise_server_base_path_is_kept(fake_time: FakeTime, make_client: MakeClient) -> None:
    with serving(path_prefix="/api/v3", clock=fake_time.time) as ghes:
        assert ghes.api_url.endswith("/api/v3")
        client = make_client(ghes)
        jit = client.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)
        for index in range(150):
            ghes.state.register_runner(
                repo_scope(REPO),
                f"extra-{index}",
                labels=("self-hosted",),
                group_id=1,
                work_folder="_w",
                secret="s",
            )
        assert (
            len(list(client.list_runners())) == 151
        )  # page 2 comes from the Link header, also under /api/v3
        client.delete_runner(jit.runner_id)
        assert client.rate_limit()["resources"]["core"]["limit"] == 5000
        assert [status for _, _, status in ghes.calls] == [201, 200, 200, 204, 200]
        # ``serving`` fails on leaving if a request outside /api/v3 was recorded


def test_list_runners_follows_every_page(github: GitHubStandIn, client: GitHubClient) -> None:
    for index in range(250):
        github.state.register_runner(
            repo_scope(REPO),
            f"runner-{index:03d}",
            labels=("self-hosted",),
            group_id=1,
            work_folder="_w",
            secret="s",
        )

    names = [runner.name for runner in client.list_runners()]

    assert names == [f"runner-{index:03d}" for index in range(250)]
    pages = github.calls_to("GET", "/actions/runners")
    assert len(pages) == 3


def test_pagination_link_to_another_host_is_not_followed(github: GitHubStandIn) -> None:
    for index in range(101):
        github.state.register_runner(
            repo_scope(REPO),
            f"runner-{index}",
            labels=("self-hosted",),
            group_id=1,
            work_folder="_w",
            secret="s",
        )
    # The stand-in's Link header names 127.0.0.1; a client configured with "localhost" must not send
    # its token to what is, by URL, another host.
    client = GitHubClient(
        github.api_url.replace("127.0.0.1", "localhost"), PatAuth(DEFAULT_PAT), scope_repo=REPO
    )

    with pytest.raises(GitHubError, match="another host"):
        list(client.list_runners())
    assert len(github.calls_to("GET", "/actions/runners")) == 1


def test_duplicate_runner_name_raises_runner_exists(github: GitHubStandIn, client: GitHubClient) -> None:
    client.generate_jitconfig(name="dup", labels=["self-hosted"], runner_group_id=1)

    with pytest.raises(GitHubRunnerExists) as raised:
        client.generate_jitconfig(name="DUP", labels=["self-hosted"], runner_group_id=1)

    assert raised.value.status == 409
    assert len(github.state.runners_in(repo_scope(REPO))) == 1


def test_deleting_a_missing_runner_raises_not_found(github: GitHubStandIn, client: GitHubClient) -> None:
    with pytest.raises(GitHubNotFound) as raised:
        client.delete_runner(424242)
    assert raised.value.status == 404


def test_deleting_a_busy_runner_raises_invalid(github: GitHubStandIn, client: GitHubClient) -> None:
    sim = RunnerSimulator(github.state)
    sim.queue_job(REPO, ["self-hosted"])
    jit = client.generate_jitconfig(name="busy", labels=["self-hosted"], runner_group_id=1)
    runner = sim.runner_online(jit.encoded_jit_config)
    assert sim.assign_job(runner.id) is not None

    with pytest.raises(GitHubInvalid) as raised:
        client.delete_runner(jit.runner_id)

    assert raised.value.status == 422
    assert "still running a job" in str(raised.value)


def test_get_job_returns_the_job_of_any_repository(github: GitHubStandIn, make_client: MakeClient) -> None:
    sim = RunnerSimulator(github.state)
    job = sim.queue_job("octo-org/other-repo", ["self-hosted", "linux"], name="test")
    client = make_client(github, org=True)

    found = client.get_job("octo-org/other-repo", job.id)

    assert found == GitHubJob(
        id=job.id,
        run_id=job.run_id,
        repository="octo-org/other-repo",
        status="queued",
        labels=("self-hosted", "linux"),
        name="test",
        workflow_name="CI",
        html_url=f"https://github.com/octo-org/other-repo/actions/runs/{job.run_id}/job/{job.id}",
        created_at=datetime.fromtimestamp(START_EPOCH, UTC),
    )
    assert found.queued and found.created_at is not None and found.created_at.tzinfo is not None
    assert client.get_job("octo-org/other-repo", job.id + 1) is None
    assert client.get_job("octo-org/third-repo", job.id) is None  # the job belongs to another repository
    assert [status for _, _, status in github.calls] == [200, 404, 404]


def test_get_runner_returns_the_scopes_runner_or_none(github: GitHubStandIn, make_client: MakeClient) -> None:
    repo_client, org_client = make_client(github), make_client(github, org=True)
    jit = repo_client.generate_jitconfig(name="r1", labels=["self-hosted", "x64"], runner_group_id=1)

    assert repo_client.get_runner(jit.runner_id) == GitHubRunner(
        jit.runner_id, "r1", "offline", False, ("self-hosted", "x64")
    )
    assert org_client.get_runner(jit.runner_id) is None  # registered in the repository, not the org
    repo_client.delete_runner(jit.runner_id)
    assert repo_client.get_runner(jit.runner_id) is None
    assert [(m, s) for m, _, s in github.calls] == [
        ("POST", 201),
        ("GET", 200),
        ("GET", 404),
        ("DELETE", 204),
        ("GET", 404),
    ]


def test_rate_limit_reports_the_core_budget(github: GitHubStandIn, client: GitHubClient) -> None:
    client.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)

    core = client.rate_limit()["resources"]["core"]

    assert (core["limit"], core["used"], core["remaining"]) == (5000, 1, 4999)


def test_wrong_token_raises_auth_error_without_retrying(
    github: GitHubStandIn, make_client: MakeClient
) -> None:
    client = make_client(github, auth=PatAuth("ghp_wrong"))

    with pytest.raises(GitHubAuthError) as raised:
        list(client.list_runners())

    assert raised.value.status == 401
    assert len(github.calls) == 1


def test_scope_is_required_and_exclusive() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        GitHubClient("https://api.github.com", PatAuth("t"))
    with pytest.raises(ValueError, match="exactly one"):
        GitHubClient("https://api.github.com", PatAuth("t"), scope_repo=REPO, scope_org=ORG)
    with pytest.raises(ValueError, match="invalid"):
        GitHubClient("https://api.github.com", PatAuth("t"), scope_repo="no-slash")
