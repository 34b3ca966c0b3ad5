"""A sample of the fuzzed requests through the real Lambda handler,
``ecsrunner_lambda.control_plane.handler``: environment, secrets and clients built as in Lambda,
Powertools logging and metrics (see ``tests/handlers/conftest.py``)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings

from tests.handlers.conftest import FakeLambdaContext, Handlers
from tests.reliability.fuzz import FuzzRequest, carries_valid_signature, requests
from tests.reliability.scale import SCALE, fuzz_settings, record_figures

READ_ONLY = ("Get", "Describe", "List", "BatchGet", "Query", "Scan")


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_lambda_handler_answers_fuzzed_requests_like_the_core(handlers: Handlers) -> None:
    """A sample through ``ecsrunner_lambda.control_plane.handler`` (Powertools, its own clients)."""
    from ecsrunner_lambda.control_plane import handler

    secret = handlers.deployment.webhook_secret.encode()
    statuses: list[int] = []

    @settings(fuzz_settings(), max_examples=SCALE.handler_requests, suppress_health_check=list(HealthCheck))
    @given(request=requests(secret))
    def one(request: FuzzRequest) -> None:
        github_calls = len(handlers.github.calls)
        mutations_before = [c for c in handlers.calls.calls if _mutating(c)]
        response = handler(request.event, FakeLambdaContext())
        assert response["statusCode"] < 500, response
        assert isinstance(json.loads(response["body"]), dict)
        statuses.append(response["statusCode"])
        if not carries_valid_signature(request.event, secret):
            assert len(handlers.github.calls) == github_calls
            assert [c for c in handlers.calls.calls if _mutating(c)] == mutations_before

    one()
    assert len(statuses) >= SCALE.handler_requests
    assert 401 in statuses
    record_figures("fuzz_handler", {"requests": len(statuses), "statuses": _histogram(statuses)})


def _mutating(call: tuple[str, str]) -> bool:
    return not call[1].startswith(READ_ONLY)


def _histogram(values: list[int]) -> dict[int, int]:
    return {value: values.count(value) for value in sorted(set(values))}
