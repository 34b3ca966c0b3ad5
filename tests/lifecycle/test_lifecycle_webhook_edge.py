"""The webhook edge: every request that is not an accepted in-scope job changes nothing.

"Nothing" is checked on the recorded calls: no DynamoDB write (no DynamoDB call at all), no other
mutating AWS call, no GitHub request; and the table stays empty.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from ecsrunner_core.usecases.dispatch import handle_control_plane_event
from ecsrunner_core.webhook import sign

from tests.lifecycle.support import (
    REPO,
    MakeWorld,
    World,
    api_gateway_event,
    fixture_json,
    github_headers,
    job_payload,
)


def assert_nothing_happened(world: World) -> None:
    assert [call.name for call in world.calls.since() if call.service == "dynamodb"] == []
    assert world.calls.mutations() == []
    assert world.github.calls == []
    assert world.items() == []


def deliver_raw(world: World, body: bytes, headers: dict[str, str], **options: Any) -> dict[str, Any]:
    return handle_control_plane_event(world.deps(), api_gateway_event(body, headers, **options))


def queued_body(world: World, **changes: Any) -> bytes:
    return json.dumps(job_payload("queued", job_id=world.next_job_id(), **changes)).encode()


def test_missing_signature_is_401_and_nothing_else_happens(world: World) -> None:
    body = queued_body(world)
    response = deliver_raw(world, body, github_headers("workflow_job", body, None, "d-1"))
    assert response["statusCode"] == 401
    assert_nothing_happened(world)


def test_signature_with_another_secret_is_401(world: World) -> None:
    body = queued_body(world)
    response = deliver_raw(world, body, github_headers("workflow_job", body, b"not-the-secret", "d-1"))
    assert response["statusCode"] == 401
    assert_nothing_happened(world)


def test_signature_of_another_body_is_401(world: World) -> None:
    body = queued_body(world)
    headers = github_headers("workflow_job", b"{}", world.deployment.webhook_secret.encode(), "d-1")
    assert deliver_raw(world, body, headers)["statusCode"] == 401
    assert_nothing_happened(world)


def test_sha1_signature_header_is_401(world: World) -> None:
    body = queued_body(world)
    headers = github_headers("workflow_job", body, None, "d-1")
    # The right HMAC, but only under the legacy header name and prefix: not accepted.
    digest = sign(world.deployment.webhook_secret.encode(), body).removeprefix("sha256=")
    headers["X-Hub-Signature-256"] = "sha1=" + digest
    assert deliver_raw(world, body, headers)["statusCode"] == 401
    assert_nothing_happened(world)


@pytest.mark.parametrize("example", ["ping.json", "ping.with-app_id.json", "ping.with-organization.json"])
def test_ping_is_200(world: World, example: str) -> None:
    response = world.webhook("ping", fixture_json(f"github/webhooks/{example}"))
    assert response["statusCode"] == 200
    assert_nothing_happened(world)


def test_other_events_are_2xx_no_ops(world: World) -> None:
    # A workflow_job body under another event name must not be acted on either.
    response = world.webhook("issues", job_payload("queued", job_id=world.next_job_id()))
    assert response["statusCode"] == 202
    assert_nothing_happened(world)


def test_malformed_json_is_400(world: World) -> None:
    response = world.webhook("workflow_job", b'{"action": "queued", "workflow_job": ')
    assert response["statusCode"] == 400
    assert_nothing_happened(world)


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "289782451"), ("labels", "self-hosted"), ("id", True), ("labels", None)],
)
def test_a_workflow_job_with_wrong_types_is_400(world: World, field: str, value: Any) -> None:
    payload = job_payload("queued", job_id=world.next_job_id())
    payload["workflow_job"][field] = value
    response = world.webhook("workflow_job", payload)
    assert response["statusCode"] == 400
    assert field in json.loads(response["body"])["message"]
    assert_nothing_happened(world)


def test_a_json_array_body_is_400(world: World) -> None:
    assert world.webhook("workflow_job", b"[]")["statusCode"] == 400
    assert_nothing_happened(world)


def test_a_body_over_one_mebibyte_is_413_before_anything_else(world: World) -> None:
    payload = job_payload("queued", job_id=world.next_job_id())
    payload["padding"] = "x" * (1024 * 1024)
    response = world.webhook("workflow_job", payload)
    assert response["statusCode"] == 413
    assert_nothing_happened(world)
    assert world.calls.since() == []  # not even the webhook secret was read


def test_a_base64_encoded_body_is_accepted(world: World) -> None:
    job_id = world.next_job_id()
    response = world.webhook("workflow_job", job_payload("queued", job_id=job_id), base64_body=True)
    assert response["statusCode"] == 200
    record = world.record_for_job(job_id)
    assert record is not None and record.task_arn


def test_invalid_base64_is_400(world: World) -> None:
    event = api_gateway_event(b"{}", github_headers("workflow_job", b"{}", None, "d-1"))
    event.update(body="!!not base64!!", isBase64Encoded=True)
    assert handle_control_plane_event(world.deps(), event)["statusCode"] == 400
    assert_nothing_happened(world)


def test_a_repository_outside_the_scope_is_2xx_and_ignored(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="ecsrunner")
    payload = job_payload("queued", job_id=world.next_job_id(), repository="octo-org/another-repo")
    response = world.webhook("workflow_job", payload)
    assert response["statusCode"] == 202
    assert "outside" in json.loads(response["body"])["message"]
    assert_nothing_happened(world)
    assert any("octo-org/another-repo is outside repo " + REPO in r.getMessage() for r in caplog.records)


def test_an_organisation_outside_the_scope_is_2xx_and_ignored(make_world: MakeWorld) -> None:
    world = make_world(github_org="octo-org")
    payload = job_payload("queued", job_id=world.next_job_id(), repository="someone-else/octo-repo")
    response = world.webhook("workflow_job", payload)
    assert response["statusCode"] == 202
    assert_nothing_happened(world)


def test_an_organisation_in_scope_is_served(make_world: MakeWorld) -> None:
    world = make_world(github_org="octo-org")
    job_id = world.next_job_id()
    response = world.webhook(
        "workflow_job", job_payload("queued", job_id=job_id, repository="octo-org/any-repo")
    )
    assert response["statusCode"] == 200
    record = world.record_for_job(job_id)
    assert record is not None and record.task_arn
    assert world.github.calls_to("POST", "/orgs/octo-org/actions/runners/generate-jitconfig")


def test_get_on_the_webhook_path_is_404(world: World) -> None:
    body = queued_body(world)
    headers = github_headers("workflow_job", body, world.deployment.webhook_secret.encode(), "d-1")
    assert deliver_raw(world, body, headers, method="GET")["statusCode"] == 404
    assert deliver_raw(world, body, headers, path="/other")["statusCode"] == 404
    assert_nothing_happened(world)
    assert world.calls.since() == []


def test_the_response_body_is_json(world: World) -> None:
    response = world.webhook("ping", fixture_json("github/webhooks/ping.json"))
    assert response["headers"]["content-type"] == "application/json"
    assert json.loads(response["body"]) == {"message": "pong"}
