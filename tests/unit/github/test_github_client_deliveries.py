"""GitHubClient's webhook-delivery reads and redelivery against the stand-in's hooks: a repository
hook, an organisation hook and the App's hook (App JWT), cursor paging, the ``status=failure``
filter, and a redelivery that reaches the target again with the same GUID."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from ecsrunner_core.adapters.github import AppAuth, GitHubClient
from ecsrunner_core.ports import GitHubAuthError, GitHubNotFound, HookDelivery, HookRef, Page
from ecsrunner_core.webhook import verify_signature
from ecsrunner_sandbox.github_faults import server_error
from ecsrunner_sandbox.github_hooks import Hook
from ecsrunner_sandbox.github_runner_sim import RunnerSimulator
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn, StandInApp, serving

from tests.unit.github.support import ORG, REPO, START_EPOCH, FakeTime

MakeClient = Callable[..., GitHubClient]
SECRET = b"hook-secret"
APP_ID = 5150


class Target:
    """A webhook endpoint that answers ``status`` and remembers what reached it."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[str, bytes, dict[str, str]]] = []

    def __call__(self, event: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.received.append((event, body, dict(headers)))
        return self.status

    @property
    def guids(self) -> list[str]:
        return [headers["X-GitHub-Delivery"] for _, _, headers in self.received]


@pytest.fixture
def target() -> Target:
    return Target()


@pytest.fixture
def hook(github: GitHubStandIn, target: Target) -> Hook:
    return github.hooks.repository_hook(REPO, target, secret=SECRET)


@pytest.fixture
def sim(github: GitHubStandIn) -> RunnerSimulator:
    return RunnerSimulator(github.state, github.hooks)


def _all(read: Callable[[str | None], Page[HookDelivery]]) -> list[Page[HookDelivery]]:
    pages = [read(None)]
    while pages[-1].next is not None:
        pages.append(read(pages[-1].next))
    return pages


def test_deliveries_are_listed_newest_first_with_what_github_recorded(
    github: GitHubStandIn, client: GitHubClient, hook: Hook, target: Target, sim: RunnerSimulator
) -> None:
    job = sim.queue_job(REPO, ["self-hosted"])
    target.status = 500
    sim.hold_for_approval(job)

    page = client.list_hook_deliveries(HookRef(hook.id), failed_only=False)

    assert page.next is None
    assert page.items == (
        HookDelivery(
            id=hook.deliveries[1].id,
            guid=target.guids[1],
            delivered_at=datetime.fromtimestamp(START_EPOCH, UTC),
            redelivery=False,
            status_code=500,
            event="workflow_job",
            action="waiting",
        ),
        HookDelivery(
            id=hook.deliveries[0].id,
            guid=target.guids[0],
            delivered_at=datetime.fromtimestamp(START_EPOCH, UTC),
            redelivery=False,
            status_code=200,
            event="workflow_job",
            action="queued",
        ),
    )
    assert [d.succeeded for d in page.items] == [False, True]
    assert client.list_hook_deliveries(HookRef(hook.id)).items == page.items[:1]  # status=failure
    assert [path for _, path, _ in github.calls] == [f"/repos/{REPO}/hooks/{hook.id}/deliveries"] * 2


def test_deliveries_page_by_cursor_one_request_per_page(
    github: GitHubStandIn, client: GitHubClient, hook: Hook, sim: RunnerSimulator
) -> None:
    job = sim.queue_job(REPO, ["self-hosted"])
    for _ in range(204):
        github.hooks.send("workflow_job", sim.payload(job, "queued"))

    pages = _all(lambda cursor: client.list_hook_deliveries(HookRef(hook.id), failed_only=False, page=cursor))

    assert [len(page.items) for page in pages] == [100, 100, 5]
    assert [page.next for page in pages] == [f"v1_{pages[1].items[0].id}", f"v1_{pages[2].items[0].id}", None]
    assert [d.id for page in pages for d in page.items] == [d.id for d in reversed(hook.deliveries)]
    assert len(github.calls) == 3


def test_a_dropped_delivery_is_redelivered_with_the_same_guid(
    github: GitHubStandIn, client: GitHubClient, hook: Hook, target: Target, sim: RunnerSimulator
) -> None:
    hook.drop_next()
    job = sim.queue_job(REPO, ["self-hosted", "linux"])
    assert target.received == []  # GitHub recorded a failure; the endpoint never saw it
    (failed,) = client.list_hook_deliveries(HookRef(hook.id)).items
    assert (failed.status_code, failed.action, failed.redelivery) == (502, "queued", False)

    client.redeliver(HookRef(hook.id), failed.id)

    ((event, body, headers),) = target.received
    assert event == "workflow_job" and headers["X-GitHub-Delivery"] == failed.guid
    assert verify_signature(SECRET, body, headers["X-Hub-Signature-256"])
    assert json.loads(body) == sim.payload(job, "queued")
    newest = client.list_hook_deliveries(HookRef(hook.id), failed_only=False).items
    assert [(d.guid, d.redelivery, d.status_code) for d in newest] == [
        (failed.guid, True, 200),
        (failed.guid, False, 502),
    ]
    # GitHub keeps the failed attempt: a failed-only listing still shows it after a redelivery
    assert client.list_hook_deliveries(HookRef(hook.id)).items == (failed,)
    assert [(m, status) for m, _, status in github.calls][1] == ("POST", 202)


def test_organisation_hooks_are_read_in_the_organisation_scope(
    github: GitHubStandIn, make_client: MakeClient, sim: RunnerSimulator
) -> None:
    org_target = Target(status=504)
    org_hook = github.hooks.organization_hook(ORG, org_target, secret=b"org-secret")
    sim.queue_job(f"{ORG}/any-repo", ["self-hosted"])
    client = make_client(github, org=True)

    (delivery,) = client.list_hook_deliveries(HookRef(org_hook.id)).items
    client.redeliver(HookRef(org_hook.id), delivery.id)

    assert org_target.guids == [delivery.guid, delivery.guid]
    assert [path for _, path, _ in github.calls] == [
        f"/orgs/{ORG}/hooks/{org_hook.id}/deliveries",
        f"/orgs/{ORG}/hooks/{org_hook.id}/deliveries/{delivery.id}/attempts",
    ]


def test_unknown_hooks_and_deliveries_raise_not_found(client: GitHubClient, hook: Hook) -> None:
    with pytest.raises(GitHubNotFound):
        client.list_hook_deliveries(HookRef(hook.id + 1))
    with pytest.raises(GitHubNotFound):
        client.redeliver(HookRef(hook.id), 123)
    with pytest.raises(ValueError, match="hook_id"):
        client.list_hook_deliveries(HookRef())


def test_redelivery_after_a_server_error_is_retried(
    github: GitHubStandIn, client: GitHubClient, hook: Hook, target: Target, sim: RunnerSimulator
) -> None:
    hook.drop_next()
    sim.queue_job(REPO, ["self-hosted"])
    (failed,) = client.list_hook_deliveries(HookRef(hook.id)).items
    github.faults.script(server_error(503))

    client.redeliver(HookRef(hook.id), failed.id)

    assert [status for _, _, status in github.calls][-2:] == [503, 202]
    assert target.guids == [failed.guid]  # the 503 came before GitHub acted: one redelivery


@pytest.fixture
def app_github(fake_time: FakeTime, app_key: tuple[str, Any]) -> Iterator[GitHubStandIn]:
    with serving(pat=DEFAULT_PAT, app=StandInApp(APP_ID, app_key[1]), clock=fake_time.time) as standin:
        yield standin


def test_the_apps_hook_is_read_with_the_apps_jwt(
    app_github: GitHubStandIn, make_client: MakeClient, app_key: tuple[str, Any], fake_time: FakeTime
) -> None:
    target = Target(status=502)
    app_hook = app_github.hooks.app_hook(target, secret=b"app-secret", app_id=APP_ID)
    RunnerSimulator(app_github.state, app_github.hooks).queue_job(REPO, ["self-hosted"])
    client = make_client(app_github, auth=AppAuth(APP_ID, app_key[0], clock=fake_time.time))

    (delivery,) = client.list_hook_deliveries(HookRef(app=True)).items
    client.redeliver(HookRef(app=True), delivery.id)

    assert [path for _, path, _ in app_github.calls] == [
        "/app/hook/deliveries",
        f"/app/hook/deliveries/{delivery.id}/attempts",
    ]
    assert app_github.minted_tokens == []  # the JWT itself, not an installation token
    assert [claims["iss"] for claims in app_github.app_jwt_claims] == [str(APP_ID)] * 2
    assert target.guids == [delivery.guid] * 2
    assert app_hook.deliveries[0].installation_id == 4242


def test_the_apps_hook_needs_app_credentials(app_github: GitHubStandIn, make_client: MakeClient) -> None:
    app_github.hooks.app_hook(Target(), secret=b"app-secret", app_id=APP_ID)
    client = make_client(app_github)  # the PAT

    with pytest.raises(GitHubAuthError) as raised:
        client.list_hook_deliveries(HookRef(app=True))
    with pytest.raises(GitHubAuthError):
        client.redeliver(HookRef(app=True), 1)

    assert raised.value.status is None
    assert app_github.calls == []
