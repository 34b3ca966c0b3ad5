"""CLI tests: ``main(argv)`` in-process against moto, with the environment an operator would set."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from ecsrunner import clients
from ecsrunner.app import main
from ecsrunner_core.settings import ENVIRONMENT, Settings, settings_environment
from ecsrunner_core.wiring import Services
from ecsrunner_sandbox.provision import Deployment, provision
from moto import mock_aws

REGION = "us-east-1"
# Every variable the CLI or boto3 could pick up from the developer's shell.
_CLEARED = (
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_SESSION_TOKEN",
    "NO_COLOR",
    "ECSRUNNER_DEBUG",
    "DOCKER_HOST",
    "TERM",
)


SETTING_VARIABLES = tuple(ENVIRONMENT.values())


@pytest.fixture(autouse=True)
def _core_logger_as_in_a_cli_process() -> Iterator[None]:
    """In its own process the CLI is alone with the core's logger; in this one, the handler tests may
    have given it Powertools' stdout handler (at import). Detach it for the CLI tests."""
    logger = logging.getLogger("ecsrunner")
    handlers, level = list(logger.handlers), logger.level
    for handler in handlers:
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    yield
    for handler in handlers:
        logger.addHandler(handler)
    logger.setLevel(level)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No deployment configured, dummy AWS credentials, a fixed region."""
    for name in (*_CLEARED, *SETTING_VARIABLES, "GITHUB_REPO", "GITHUB_ORG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in DUMMY_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "200")
    return monkeypatch


@pytest.fixture
def aws(clean_env: pytest.MonkeyPatch) -> Iterator[None]:
    with mock_aws():
        yield


DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@contextmanager
def shared_moto() -> Iterator[boto3.Session]:
    """moto for a whole module (read-only tests share one deployment): dummy credentials meanwhile."""
    with pytest.MonkeyPatch.context() as env:
        for name in _CLEARED:
            env.delenv(name, raising=False)
        for name, value in DUMMY_AWS.items():
            env.setenv(name, value)
        with mock_aws():
            yield boto3.Session(region_name=REGION)


@pytest.fixture
def session(aws: None) -> boto3.Session:
    return boto3.Session(region_name=REGION)


@pytest.fixture
def deployment(session: boto3.Session) -> Deployment:
    return provision(session)


@pytest.fixture
def services(deployment: Deployment, session: boto3.Session) -> Services:
    """The core's adapters for the deployment: how tests write records, as the Lambdas do."""
    return Services(deployment.settings, session)


@pytest.fixture
def configure(clean_env: pytest.MonkeyPatch) -> Any:
    """Set the operator's environment: ``configure(settings)`` for all of it, or ``configure(**vars)``."""

    def apply(settings: Settings | None = None, **variables: str) -> None:
        values = settings_environment(settings) if settings is not None else {}
        values.update(variables)
        for name, value in values.items():
            clean_env.setenv(name, value)

    return apply


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``main(argv)``; never a traceback on stderr, whatever the outcome."""

    def run(*argv: str) -> Result:
        code = main(list(argv))
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        assert "Traceback" not in captured.out, captured.out
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``service.Operation`` of every AWS call the CLI makes, seen through botocore's event hooks."""
    calls: list[str] = []
    real = clients.new_session

    def observed(region: str | None, profile: str | None) -> boto3.Session:
        session = real(region, profile)

        def record(model: Any, **_: Any) -> None:
            calls.append(f"{model.service_model.service_name}.{model.name}")

        session.events.register("before-call", record)
        return session

    monkeypatch.setattr(clients, "new_session", observed)
    return calls


@pytest.fixture
def session_hooks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """``(event, handler)`` pairs registered on every session the CLI creates (botocore events)."""
    hooks: list[tuple[str, Any]] = []
    real = clients.new_session

    def hooked(region: str | None, profile: str | None) -> boto3.Session:
        session = real(region, profile)
        for event, handler in hooks:
            session.events.register(event, handler)
        return session

    monkeypatch.setattr(clients, "new_session", hooked)
    return hooks


def forget_images(session: boto3.Session, deployment: Deployment) -> None:
    """Remove every image record and ECR image, so that a shared deployment starts without images."""
    settings = deployment.settings
    db = session.client("dynamodb")
    for page in db.get_paginator("scan").paginate(TableName=settings.runner_table, ProjectionExpression="pk"):
        for item in page.get("Items", []):
            if item["pk"]["S"].startswith(("IMAGE#", "BUILD#")):
                db.delete_item(TableName=settings.runner_table, Key={"pk": item["pk"]})
    ecr = session.client("ecr")
    repository = settings.ecr_repository_url.split("/", 1)[1]
    image_ids = ecr.list_images(repositoryName=repository).get("imageIds", [])
    if image_ids:
        ecr.batch_delete_image(repositoryName=repository, imageIds=image_ids)


@pytest.fixture(scope="module")
def shared_deployment() -> Iterator[tuple[boto3.Session, Deployment]]:
    """One deployment for a whole module; its tests start from `forget_images`."""
    with shared_moto() as session:
        yield session, provision(session)
