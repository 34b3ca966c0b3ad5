"""Fixtures of the Lambda handler tests: a deployment on in-process moto, the GitHub stand-in, and the
functions' environment exactly as docs/DESIGN.md defines it (``settings_env``).

The handlers build everything themselves (``boto3.Session()``, the secrets, the GitHub client), as in
Lambda; their Powertools log lines and EMF metrics are read back from stdout.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.client
import pytest
from ecsrunner_core.domain.image_ref import parse_image_reference
from ecsrunner_core.domain.names import derive_image_tag
from ecsrunner_core.settings import Settings, settings_environment
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn, serving
from ecsrunner_sandbox.provision import Deployment, provision
from moto import mock_aws
from moto.moto_api import state_manager

from tests.lifecycle.support import IMAGE_MANIFEST, REGION, new_session


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment of both functions for ``settings`` (the table in docs/DESIGN.md)."""
    return {
        **settings_environment(settings),
        "POWERTOOLS_SERVICE_NAME": "ecsrunner",
        "POWERTOOLS_METRICS_NAMESPACE": "ecsrunner",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


class CurrentStdout(io.TextIOBase):
    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@dataclass
class FakeLambdaContext:
    function_name: str = "ecsr-control-plane"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "6f1c1c5e-3a43-4b43-8c5e-0d6ad4a0c1a7"
    log_group_name: str = "/aws/lambda/ecsr-control-plane"
    log_stream_name: str = "2026/11/23/[$LATEST]0123456789abcdef"
    invoked_function_arn: str = field(
        default="arn:aws:lambda:us-east-1:123456789012:function:ecsr-control-plane"
    )

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class AwsCalls:
    """Every AWS API call made in the test process, as (service, operation)."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def of(self, service: str, operation: str) -> int:
        return self.calls.count((service, operation))


@dataclass
class Handlers:
    deployment: Deployment
    github: GitHubStandIn
    calls: AwsCalls
    capsys: pytest.CaptureFixture[str]

    @property
    def settings(self) -> Settings:
        return self.deployment.settings

    def output(self) -> list[dict[str, Any]]:
        """The JSON lines the function printed since the last call (Powertools logs and EMF)."""
        lines = []
        for line in self.capsys.readouterr().out.splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines


def logs(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if "_aws" not in line]


def metric_names(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Metric name -> (value, dimensions) for every EMF document."""
    found: dict[str, Any] = {}
    for line in lines:
        if "_aws" not in line:
            continue
        for directive in line["_aws"]["CloudWatchMetrics"]:
            dimensions = {d: line[d] for group in directive["Dimensions"] for d in group}
            for metric in directive["Metrics"]:
                found[metric["Name"]] = (line[metric["Name"]], dimensions, directive["Namespace"])
    return found


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Handlers]:
    from ecsrunner_lambda import observability, runtime

    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    calls = AwsCalls()
    original = botocore.client.BaseClient.__dict__["_make_api_call"]

    def recording(client: Any, operation: str, params: Any) -> Any:
        calls.calls.append((client.meta.service_model.service_name, operation))
        return original(client, operation, params)

    with mock_aws(), serving(pat=DEFAULT_PAT) as github:
        state_manager.set_transition(
            model_name="ecs::task", transition={"progression": "manual", "times": 1_000_000}
        )
        aws = new_session()
        deployment = provision(
            aws,
            github_api_url=github.api_url,
            github_credentials=json.dumps({"type": "pat", "token": DEFAULT_PAT}),
        )
        settings = deployment.settings
        tag = derive_image_tag(
            parse_image_reference(settings.default_base_image).canonical,
            settings.build_context_digest,
            "x86_64",
        )
        aws.client("ecr").put_image(
            repositoryName=settings.ecr_repository_url.split("/", 1)[1],
            imageManifest=IMAGE_MANIFEST,
            imageTag=tag,
        )
        for key, value in settings_env(settings).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr(runtime, "_services", None)  # a cold container
        monkeypatch.setattr("botocore.client.BaseClient._make_api_call", recording)
        # Powertools' handler keeps the stream it was created with (an earlier test's capture):
        # write to whatever stdout is now, as in Lambda.
        observability.logger.registered_handler.stream = CurrentStdout()  # type: ignore[attr-defined]
        capsys.readouterr()
        yield Handlers(deployment, github, calls, capsys)


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def make_context() -> Callable[..., FakeLambdaContext]:
    return FakeLambdaContext
