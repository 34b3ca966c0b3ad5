"""The stand-in's webhooks: one event to every subscribed hook under one GUID, signed per hook;
drops GitHub records but the target never sees; targets that fail; URL targets; redelivery now or
deferred; delivery times on the stand-in's clock."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from ecsrunner_core.webhook import verify_signature
from ecsrunner_sandbox.github_hooks import (
    FAILED_TO_CONNECT,
    TIMED_OUT,
    DeliveryFailed,
    Outcome,
    TargetReply,
    post_to,
)
from ecsrunner_sandbox.github_runner_sim import RunnerSimulator
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn, StandInApp, serving
from ecsrunner_sandbox.github_state import repo_scope

from tests.unit.github.support import ORG, REPO, START_EPOCH, FakeTime

HEADERS = {"Authorization": f"Bearer {DEFAULT_PAT}", "X-GitHub-Api-Version": "2022-11-28"}


class Target:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[str, bytes, dict[str, str]]] = []

    def __call__(self, event: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.received.append((event, body, dict(headers)))
        return self.status


@pytest.fixture
def app_github(fake_time: FakeTime, app_key: tuple[str, Any]) -> Iterator[GitHubStandIn]:
    app = StandInApp(77, app_key[1], installed_scopes=frozenset({repo_scope(REPO)}))
    with serving(app=app, clock=fake_time.time) as standin:
        yield standin


def _payload(github: GitHubStandIn, repository: str = REPO) -> dict[str, Any]:
    sim = RunnerSimulator(github.state)
    return sim.payload(sim.queue_job(repository, ["self-hosted"]), "queued")


def test_an_event_reaches_every_subscribed_hook_under_one_guid(app_github: GitHubStandIn) -> None:
    repo_target, org_target, other_target, app_target = Target(), Target(), Target(), Target()
    repo_hook = app_github.hooks.repository_hook(REPO, repo_target, secret=b"repo-secret")
    org_hook = app_github.hooks.organization_hook(ORG, org_target, secret=b"org-secret")
    app_github.hooks.repository_hook(f"{ORG}/another", other_target, secret=b"x")
    app_hook = app_github.hooks.app_hook(app_target, secret=b"app-secret", app_id=77)

    sent = app_github.hooks.send("workflow_job", _payload(app_github))

    assert [d.hook_id for d in sent] == [repo_hook.id, org_hook.id, app_hook.id]
    assert len({d.guid for d in sent}) == 1 and len({d.id for d in sent}) == 3
    assert other_target.received == []
    for target, secret, kind, hook in (
        (repo_target, b"repo-secret", "repository", repo_hook),
        (org_target, b"org-secret", "organization", org_hook),
        (app_target, b"app-secret", "integration", app_hook),
    ):
        ((event, body, headers),) = target.received
        assert headers["X-GitHub-Hook-ID"] == str(hook.id)
        assert event == "workflow_job" == headers["X-GitHub-Event"]
        assert verify_signature(secret, body, headers["X-Hub-Signature-256"])
        assert headers["X-GitHub-Delivery"] == sent[0].guid
        assert headers["X-GitHub-Hook-Installation-Target-Type"] == kind
    assert app_target.received[0][2]["X-GitHub-Hook-Installation-Target-ID"] == "77"
    assert [d.installation_id for d in sent] == [None, None, 4242]
    assert {d.repository_id for d in sent} == {app_github.state.repository_id(REPO)}


def test_the_apps_hook_hears_only_where_the_app_is_installed(app_github: GitHubStandIn) -> None:
    app_target = Target()
    app_github.hooks.app_hook(app_target, secret=b"s", app_id=77)

    assert app_github.hooks.send("workflow_job", _payload(app_github, f"{ORG}/not-installed")) == []
    assert app_target.received == []


def test_dropped_deliveries_are_recorded_as_failures_the_target_never_saw(github: GitHubStandIn) -> None:
    target = Target()
    hook = github.hooks.repository_hook(REPO, target, secret=b"s")
    hook.drop_next(2, TIMED_OUT)
    hook.drop_next()

    sent = [github.hooks.send("workflow_job", _payload(github))[0] for _ in range(4)]

    assert [(d.status_code, d.status, d.dropped) for d in sent] == [
        (504, "timed out", True),
        (504, "timed out", True),
        (502, "failed to connect", True),
        (200, "OK", False),
    ]
    assert [headers["X-GitHub-Delivery"] for _, _, headers in target.received] == [sent[3].guid]
    assert sent[0].to_api()["response"] == {"headers": None, "payload": None}
    assert sent[0].to_api()["request"]["payload"] == sent[0].payload


def test_targets_that_answer_an_error_or_nothing(github: GitHubStandIn) -> None:
    answers: list[Any] = [
        500,
        TargetReply(201, {"Content-Type": "text/plain"}, "created"),
        DeliveryFailed(Outcome(0, "connection reset")),
    ]

    def target(event: str, body: bytes, headers: Mapping[str, str]) -> int | TargetReply:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    github.hooks.repository_hook(REPO, target, secret=b"s")
    sent = [github.hooks.send("workflow_job", _payload(github))[0] for _ in range(3)]

    assert [(d.status_code, d.status, d.succeeded) for d in sent] == [
        (500, "Invalid HTTP Response: 500", False),
        (201, "OK", True),
        (0, "connection reset", False),
    ]
    assert sent[1].to_api()["response"] == {"headers": {"Content-Type": "text/plain"}, "payload": "created"}


def test_a_failed_listing_holds_only_400_to_599_as_githubs_description_says(github: GitHubStandIn) -> None:
    hook = github.hooks.repository_hook(REPO, Target(404), secret=b"s")
    hook.drop_next(1, Outcome(0, "timed out"))
    sent = [github.hooks.send("workflow_job", _payload(github))[0] for _ in range(2)]

    failed = requests.get(
        f"{github.api_url}/repos/{REPO}/hooks/{hook.id}/deliveries",
        params={"status": "failure"},
        headers=HEADERS,
    )
    succeeded = requests.get(
        f"{github.api_url}/repos/{REPO}/hooks/{hook.id}/deliveries",
        params={"status": "success"},
        headers=HEADERS,
    )

    assert [d["id"] for d in failed.json()] == [sent[1].id]  # 404; the status_code 0 one is in neither
    assert succeeded.json() == []


def test_redeliveries_can_wait_until_github_gets_to_them(github: GitHubStandIn) -> None:
    target = Target()
    hook = github.hooks.repository_hook(REPO, target, secret=b"old-secret")
    hook.drop_next()
    (dropped,) = github.hooks.send("workflow_job", _payload(github))
    github.hooks.defer_redeliveries = True
    url = f"{github.api_url}/repos/{REPO}/hooks/{hook.id}/deliveries/{dropped.id}/attempts"

    assert requests.post(url, headers=HEADERS).status_code == 202
    assert target.received == []
    hook.secret = b"new-secret"  # rotated before GitHub redelivers: signed with the current secret
    (again,) = github.hooks.deliver_pending()

    ((_, body, headers),) = target.received
    assert body == dropped.body and headers["X-GitHub-Delivery"] == dropped.guid
    assert verify_signature(b"new-secret", body, headers["X-Hub-Signature-256"])
    assert (again.redelivery, again.status_code, again.guid) == (True, 200, dropped.guid)
    assert github.hooks.deliver_pending() == []
    missing = requests.post(url.replace(str(dropped.id), str(dropped.id + 99)), headers=HEADERS)
    assert missing.status_code == 404


def test_delivery_times_follow_the_standins_clock(github: GitHubStandIn, fake_time: FakeTime) -> None:
    hook = github.hooks.repository_hook(REPO, Target(), secret=b"s")
    github.hooks.send("workflow_job", _payload(github))
    fake_time.advance(90)
    github.hooks.send("workflow_job", _payload(github))

    assert [d.delivered_at for d in hook.deliveries] == [START_EPOCH, START_EPOCH + 90]
    assert hook.deliveries[1].to_item()["delivered_at"].endswith("Z")


def test_drop_rate_is_repeatable_for_a_seed(fake_time: FakeTime) -> None:
    def run(seed: int) -> list[bool]:
        with serving(clock=fake_time.time, seed=seed) as github:
            github.hooks.repository_hook(REPO, Target(), secret=b"s")
            github.hooks.set_drop_rate(0.5)
            payload = _payload(github)
            return [github.hooks.send("workflow_job", payload)[0].dropped for _ in range(40)]

    first = run(3)
    assert first == run(3)
    assert first != run(4)
    assert True in first and False in first


@pytest.fixture
def endpoint() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhook", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_url_targets_get_a_post_or_are_recorded_unreachable(
    github: GitHubStandIn, endpoint: tuple[str, list[bytes]]
) -> None:
    url, received = endpoint
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/webhook"
    github.hooks.repository_hook(REPO, post_to(url), secret=b"a", url=url)
    github.hooks.organization_hook(ORG, post_to(closed), secret=b"b", url=closed)

    reached, refused = github.hooks.send("workflow_job", _payload(github))

    assert (reached.status_code, reached.status, reached.url) == (202, "OK", url)
    assert reached.response_body == "{}" and received == [reached.body]
    assert (refused.status_code, refused.status) == (FAILED_TO_CONNECT.status_code, "failed to connect")
    assert json.loads(reached.body)["repository"]["full_name"] == REPO
