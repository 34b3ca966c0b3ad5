"""The functions' environment: the DESIGN.md variables read once into ``Settings``; secrets only as ARNs."""

from __future__ import annotations

import json

import pytest
from ecsrunner_core.settings import Settings
from ecsrunner_lambda import runtime

from tests.handlers.conftest import FakeLambdaContext, Handlers, settings_env
from tests.lifecycle.support import job_payload


def test_the_environment_reads_back_as_the_deployments_settings(handlers: Handlers) -> None:
    assert Settings.from_env(settings_env(handlers.settings)) == handlers.settings


def test_no_secret_is_in_the_environment(handlers: Handlers) -> None:
    env = settings_env(handlers.settings)
    values = "\n".join(env.values())
    assert handlers.deployment.webhook_secret not in values
    assert json.loads(handlers.deployment.github_credentials)["token"] not in values
    assert env["WEBHOOK_SECRET_ARN"].startswith("arn:aws:secretsmanager:")
    assert env["GITHUB_CREDENTIALS_SECRET_ARN"].startswith("arn:aws:secretsmanager:")


def test_settings_are_read_once_per_container(handlers: Handlers, monkeypatch: pytest.MonkeyPatch) -> None:
    from ecsrunner_lambda.janitor import handler

    handler({}, FakeLambdaContext())
    services = runtime._services
    assert services is not None and services.settings == handlers.settings
    monkeypatch.setenv("MAX_RUNNERS", "7")  # changing the environment of a warm container changes nothing
    handler({}, FakeLambdaContext())
    assert runtime._services is services and services.settings.max_runners == 0


def test_a_broken_environment_fails_the_first_invocation_with_the_variable_named(
    handlers: Handlers, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecsrunner_lambda.control_plane import handler

    monkeypatch.delenv("RUNNER_TABLE")
    from tests.lifecycle.support import api_gateway_event

    event = api_gateway_event(json.dumps(job_payload("queued", job_id=1)).encode(), {})
    with pytest.raises(ValueError, match="RUNNER_TABLE"):
        handler(event, FakeLambdaContext())
