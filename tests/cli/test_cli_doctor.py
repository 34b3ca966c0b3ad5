"""`doctor`: every check passes on a healthy deployment, and each one fails with its fix.

GitHub is the OpenAPI-validated stand-in; the webhook endpoint is a loopback server that answers
with the control plane's own webhook use case (signature check included).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from ecsrunner_core.domain.classes import DEFAULT_CLASS_SIZES
from ecsrunner_core.usecases.webhook import WebhookRequest, handle_webhook
from ecsrunner_core.wiring import Services
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn, serving
from ecsrunner_sandbox.provision import Deployment, provision

from tests.cli.cli_servers import LoopbackServer, Received, Reply, serve
from tests.cli.cli_terraform import install_fake_terraform, terraform_outputs
from tests.cli.conftest import shared_moto

WEBHOOK_SECRET = "doctor-webhook-secret-value"
GITHUB_CREDENTIALS = json.dumps({"type": "pat", "token": DEFAULT_PAT})
CHECKS = ["runner table", "class sizes", "webhook secret", "GitHub credentials", "GitHub API", "webhook URL"]


@dataclass(frozen=True)
class Finding:
    outcome: str
    name: str
    detail: str
    fix: str


def findings(out: str) -> dict[str, Finding]:
    """The report's lines: ``OUTCOME  NAME (18 wide)  DETAIL`` and an optional ``fix:`` line under it."""
    found: dict[str, Finding] = {}
    last = None
    for line in out.splitlines():
        if line.startswith(" " * 26 + "fix: "):
            assert last is not None
            found[last] = Finding(**{**found[last].__dict__, "fix": line[31:]})
        elif line[:4].strip() in {"ok", "FAIL", "skip"}:
            last = line[6:24].strip()
            found[last] = Finding(line[:4].strip(), last, line[26:], "")
    return found


@dataclass(frozen=True)
class World:
    session: boto3.Session
    deployment: Deployment
    github: GitHubStandIn
    webhook: LoopbackServer


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One healthy deployment for the module; `healthy` puts back whatever a test broke."""
    with shared_moto() as session, serving() as github:
        deployment = provision(
            session,
            github_api_url=github.api_url,
            github_credentials=GITHUB_CREDENTIALS,
            webhook_secret=WEBHOOK_SECRET,
        )
        deps = Services(deployment.settings, session).deps()

        def answer(request: Received) -> Reply:
            """The webhook endpoint: the core's handle_webhook with the deployment's secret."""
            response = handle_webhook(deps, WebhookRequest(request.headers, request.body))
            return response.status, json.dumps(response.body).encode()

        with serve(answer) as webhook:
            yield World(session, deployment, github, webhook)


def make_healthy(world: World) -> None:
    settings, session = world.deployment.settings, world.session
    session.client("dynamodb").update_time_to_live(
        TableName=settings.runner_table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    session.client("ssm").put_parameter(
        Name=settings.class_sizes_param,
        Type="String",
        Value=json.dumps(DEFAULT_CLASS_SIZES.to_json()),
        Overwrite=True,
    )
    sm = session.client("secretsmanager")
    sm.put_secret_value(SecretId=settings.webhook_secret_arn, SecretString=WEBHOOK_SECRET)
    sm.put_secret_value(SecretId=settings.github_credentials_secret_arn, SecretString=GITHUB_CREDENTIALS)
    world.webhook.received.clear()


@pytest.fixture
def healthy(world: World) -> Deployment:
    make_healthy(world)
    return world.deployment


@pytest.fixture
def session(world: World) -> boto3.Session:
    return world.session


@pytest.fixture
def github(world: World) -> GitHubStandIn:
    return world.github


@pytest.fixture
def control_plane(world: World) -> LoopbackServer:
    return world.webhook


@pytest.fixture
def doctor(cli, configure, healthy: Deployment, control_plane: LoopbackServer):
    configure(healthy.settings)

    def run(*extra: str):
        result = cli("doctor", "--webhook-url", f"{control_plane.url}/webhook", *extra)
        for secret in (WEBHOOK_SECRET, DEFAULT_PAT):
            assert secret not in result.out + result.err
        return result, findings(result.out)

    return run


def secret_client(session: boto3.Session):
    return session.client("secretsmanager")


def test_healthy_deployment_passes_every_check(doctor, healthy, control_plane, github) -> None:
    result, found = doctor()
    assert result.code == 0, result.out
    assert list(found) == CHECKS
    assert {f.outcome for f in found.values()} == {"ok"}
    settings = healthy.settings
    assert found["runner table"].detail == f"{settings.runner_table}: status-index GSI, TTL on expires_at"
    assert (
        found["class sizes"].detail == f"{settings.class_sizes_param}: large, medium, small (default medium)"
    )
    assert found["GitHub credentials"].detail.endswith(": personal access token")
    assert re.search(
        r": credentials work, [0-9]+/5000 core requests left this hour$", found["GitHub API"].detail
    )
    assert found["webhook URL"].detail == f"{control_plane.url}/webhook: signed ping answered HTTP 200"
    assert result.out.endswith("\n6 of 6 checks passed\n")
    [ping] = control_plane.received
    assert ping.headers["x-github-event"] == "ping"
    assert ping.headers["user-agent"] == "GitHub-Hookshot/ecsrunner-cli"
    assert github.calls_to("GET", "/rate_limit") and github.violations == []


def test_table_without_ttl(doctor, healthy, session) -> None:
    session.client("dynamodb").update_time_to_live(
        TableName=healthy.settings.runner_table,
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires_at"},
    )
    result, found = doctor()
    assert result.code == 1
    table = found["runner table"]
    assert table.outcome == "FAIL"
    assert "TTL is not enabled on expires_at" in table.detail
    assert "update-time-to-live --table-name ecsr-runners" in table.fix
    assert [f.outcome for f in found.values()] == ["FAIL", "ok", "ok", "ok", "ok", "ok"]
    assert result.out.endswith("\n5 of 6 checks passed\n")


def test_table_without_the_status_index(doctor, configure, session) -> None:
    db = session.client("dynamodb")
    if "bare" not in db.list_tables()["TableNames"]:
        db.create_table(
            TableName="bare",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
    configure(RUNNER_TABLE="bare")
    result, found = doctor()
    assert result.code == 1
    assert (
        found["runner table"].detail == "table bare has no status-index GSI (hash status, range created_at)"
    )
    assert found["runner table"].fix.startswith("apply the Terraform module again")


def test_missing_table(doctor, configure) -> None:
    configure(RUNNER_TABLE="gone")
    result, found = doctor()
    assert result.code == 1
    assert (found["runner table"].outcome, found["runner table"].detail) == (
        "FAIL",
        "table gone does not exist",
    )
    assert found["runner table"].fix.startswith("check RUNNER_TABLE")
    assert found["class sizes"].outcome == "ok"  # the other checks still run


def test_invalid_class_sizes(doctor, healthy, session) -> None:
    document = {"default": "huge", "classes": {"small": {"cpu": 512, "memory": 1024}}}
    session.client("ssm").put_parameter(
        Name=healthy.settings.class_sizes_param, Type="String", Value=json.dumps(document), Overwrite=True
    )
    result, found = doctor()
    assert result.code == 1
    sizes = found["class sizes"]
    assert sizes.detail == "parameter /ecsr/class-sizes: default class 'huge' is not defined; defined: small"
    assert sizes.fix.startswith("correct the Terraform variable class_sizes")


def test_missing_class_sizes_parameter(doctor, configure) -> None:
    configure(CLASS_SIZES_PARAM="/nowhere")
    result, found = doctor()
    assert result.code == 1
    assert (
        found["class sizes"].detail
        == "parameter /nowhere not found in region us-east-1: check CLASS_SIZES_PARAM"
    )


def test_webhook_secret_not_configured(doctor, configure, clean_env) -> None:
    clean_env.delenv("WEBHOOK_SECRET_ARN")
    result, found = doctor()
    assert result.code == 1
    assert (found["webhook secret"].outcome, found["webhook secret"].detail) == (
        "FAIL",
        "WEBHOOK_SECRET_ARN is not set",
    )
    assert found["webhook URL"].outcome == "skip"
    assert result.out.endswith("\n4 of 6 checks passed\n")


def test_webhook_secret_missing(doctor, configure, healthy) -> None:
    configure(WEBHOOK_SECRET_ARN=healthy.settings.webhook_secret_arn.replace("webhook-secret", "deleted"))
    result, found = doctor()
    assert result.code == 1
    assert found["webhook secret"].detail.startswith("AWS GetSecretValue failed: ResourceNotFoundException")
    assert found["webhook secret"].fix.startswith("check WEBHOOK_SECRET_ARN")


def test_empty_webhook_secret(doctor, healthy, session) -> None:
    secret_client(session).put_secret_value(SecretId=healthy.settings.webhook_secret_arn, SecretString=" ")
    result, found = doctor()
    assert result.code == 1
    assert found["webhook secret"].detail == f"{healthy.settings.webhook_secret_arn} is empty"
    assert "put-secret-value" in found["webhook secret"].fix


def test_malformed_github_credentials(doctor, healthy, session) -> None:
    secret_client(session).put_secret_value(
        SecretId=healthy.settings.github_credentials_secret_arn, SecretString='{"type": "pat", "tokn": "x"}'
    )
    result, found = doctor()
    assert result.code == 1
    assert found["GitHub credentials"].detail == 'GitHub credentials secret: missing field "token"'
    assert found["GitHub API"].outcome == "skip"


def test_github_refuses_the_token(doctor, healthy, session) -> None:
    secret_client(session).put_secret_value(
        SecretId=healthy.settings.github_credentials_secret_arn,
        SecretString='{"type": "pat", "token": "ghp_revoked"}',
    )
    result, found = doctor()
    assert result.code == 1
    assert found["GitHub credentials"].outcome == "ok"
    api = found["GitHub API"]
    assert api.outcome == "FAIL"
    assert api.detail.endswith("(repo octo-org/octo-repo): GitHub GET rate_limit: 401 Bad credentials")
    assert api.fix == "renew the token or App key in the credentials secret"
    assert "ghp_revoked" not in result.out


def test_github_app_with_a_broken_key(doctor, healthy, session) -> None:
    app = {
        "type": "app",
        "app_id": 123,
        "installation_id": 456,
        "private_key": "-----BEGIN RSA PRIVATE KEY-----x",
    }
    secret_client(session).put_secret_value(
        SecretId=healthy.settings.github_credentials_secret_arn, SecretString=json.dumps(app)
    )
    result, found = doctor()
    assert result.code == 1
    assert found["GitHub credentials"].detail.endswith(": GitHub App 123 (installation 456)")
    assert found["GitHub API"].detail.endswith("private_key is not a PEM private key")


def test_webhook_endpoint_with_another_secret(cli, configure, healthy) -> None:
    with serve(lambda request: (401, b'{"message": "missing or invalid X-Hub-Signature-256"}')) as other:
        configure(healthy.settings)
        result = cli("doctor", "--webhook-url", other.url)
    found = findings(result.out)
    assert result.code == 1
    assert found["webhook URL"].detail == f"{other.url}: HTTP 401, the signature was refused"
    assert "another secret" in found["webhook URL"].fix


def test_webhook_endpoint_failing(cli, configure, healthy) -> None:
    with serve(lambda request: (502, b'{"message": "Internal Server Error"}')) as broken:
        configure(healthy.settings)
        result = cli("doctor", "--webhook-url", broken.url)
    found = findings(result.out)
    assert result.code == 1
    assert found["webhook URL"].detail == (
        f'{broken.url}: signed ping answered HTTP 502: {{"message": "Internal Server Error"}}'
    )


def test_no_webhook_url(cli, configure, healthy) -> None:
    configure(healthy.settings)
    result = cli("doctor")
    found = findings(result.out)
    assert result.code == 1
    assert found["webhook URL"].detail == "no webhook URL to check"
    assert found["webhook URL"].fix == "pass --webhook-url URL or --terraform-dir DIR"


def test_webhook_url_from_terraform(cli, healthy, control_plane, tmp_path: Path, clean_env) -> None:
    state, write = install_fake_terraform(tmp_path, clean_env)
    write(terraform_outputs(healthy, webhook_url=f"{control_plane.url}/webhook"))
    result = cli("doctor", "--terraform-dir", str(state))
    assert result.code == 0, result.out
    assert findings(result.out)["webhook URL"].outcome == "ok"
    assert len(control_plane.received) == 1


def test_doctor_needs_the_deployment(cli, configure) -> None:
    configure(RUNNER_TABLE="t")
    result = cli("doctor")
    assert result.code == 1
    assert result.err.startswith("error: configuration: environment variable ECSRUNNER_NAME is required")
