"""`webhook send`: a payload file signed and POSTed exactly as GitHub delivers it."""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path

import pytest
from ecsrunner_core.usecases.webhook import WebhookRequest, handle_webhook
from ecsrunner_core.webhook import verify_signature
from ecsrunner_core.wiring import Services

from tests.cli.cli_servers import Received, Reply, serve

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github" / "webhooks"
SECRET = "It's a Secret to Everybody"


def verifying(request: Received) -> Reply:
    if not verify_signature(SECRET.encode(), request.body, request.headers.get("x-hub-signature-256")):
        return 401, b'{"message": "missing or invalid X-Hub-Signature-256"}'
    return 202, json.dumps({"message": f"event {request.headers['x-github-event']!r} ignored"}).encode()


@pytest.fixture
def receiver():
    with serve(verifying) as server:
        yield server


@pytest.fixture
def payload() -> Path:
    return FIXTURES / "workflow_job.queued.json"


def test_signed_delivery_with_githubs_headers(cli, clean_env, receiver, payload: Path) -> None:
    result = cli(
        "webhook", "send", "--url", f"{receiver.url}/webhook", "--secret", SECRET, "--payload", str(payload)
    )
    assert result.code == 0, result.err
    assert result.out == 'HTTP 202\n{"message": "event \'workflow_job\' ignored"}\n'
    [request] = receiver.received
    assert (request.method, request.path) == ("POST", "/webhook")
    assert request.body == payload.read_bytes()  # byte for byte
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-github-event"] == "workflow_job"
    assert request.headers["user-agent"] == "GitHub-Hookshot/ecsrunner-cli"
    assert uuid.UUID(request.headers["x-github-delivery"]).version == 4
    assert f"delivery {request.headers['x-github-delivery']}: workflow_job, " in result.err
    assert SECRET not in result.out + result.err


def test_secret_from_the_environment_and_another_event(cli, clean_env, receiver) -> None:
    clean_env.setenv("MY_HOOK_SECRET", SECRET)
    ping = FIXTURES / "ping.json"
    result = cli(
        "webhook",
        "send",
        "--url",
        receiver.url,
        "--secret-env",
        "MY_HOOK_SECRET",
        "--payload",
        str(ping),
        "--event",
        "ping",
    )
    assert result.code == 0
    assert receiver.received[0].headers["x-github-event"] == "ping"
    assert result.out.startswith("HTTP 202\n")


def test_a_refused_delivery_exits_1_with_the_response(cli, clean_env, receiver, payload) -> None:
    result = cli("webhook", "send", "--url", receiver.url, "--secret", "wrong", "--payload", str(payload))
    assert result.code == 1
    assert result.out == 'HTTP 401\n{"message": "missing or invalid X-Hub-Signature-256"}\n'


def test_unset_secret_variable(cli, clean_env, receiver, payload) -> None:
    result = cli(
        "webhook", "send", "--url", receiver.url, "--secret-env", "NOT_SET", "--payload", str(payload)
    )
    assert result.code == 1
    assert result.err == "error: environment variable NOT_SET (--secret-env) is not set or empty\n"
    assert receiver.received == []


def test_missing_payload_file(cli, clean_env, receiver, tmp_path) -> None:
    missing = tmp_path / "nope.json"
    result = cli("webhook", "send", "--url", receiver.url, "--secret", SECRET, "--payload", str(missing))
    assert (result.code, result.err) == (
        1,
        f"error: cannot read --payload {missing}: No such file or directory\n",
    )


def test_unreachable_url(cli, clean_env, payload) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli(
        "webhook", "send", "--url", f"http://127.0.0.1:{port}/", "--secret", SECRET, "--payload", str(payload)
    )
    assert result.code == 1
    assert result.err.startswith(f"error: POST http://127.0.0.1:{port}/ failed: ConnectionError: ")
    assert result.err.count("\n") == 1


def test_against_the_control_planes_own_webhook_handling(
    cli, configure, deployment, session, payload
) -> None:
    """The same delivery the real endpoint gets: signature, then scope (this payload's repo is not ours)."""
    deps = Services(deployment.settings, session).deps()

    def control_plane(request: Received) -> Reply:
        response = handle_webhook(deps, WebhookRequest(request.headers, request.body))
        return response.status, json.dumps(response.body).encode()

    with serve(control_plane) as endpoint:
        result = cli(
            "webhook",
            "send",
            "--url",
            endpoint.url,
            "--secret",
            deployment.webhook_secret,
            "--payload",
            str(payload),
        )
    assert result.code == 0, result.out
    assert (
        result.out == 'HTTP 202\n{"message": "Codertocat/Hello-World is outside this deployment\'s scope"}\n'
    )
