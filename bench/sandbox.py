"""One ecsrunner deployment on moto (in-process or a server) with the GitHub stand-in.

The core runs unchanged: ``Services`` wires the real adapters (DynamoDB store, ECS launcher, S3 JIT
store, Secrets Manager, SSM) to boto3, and the real ``GitHubClient`` talks HTTP to the stand-in.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from ecsrunner_core.adapters.github import GitHubClient, PatAuth
from ecsrunner_core.domain.image_ref import parse_image_reference
from ecsrunner_core.domain.names import derive_image_tag
from ecsrunner_core.ports import Clock
from ecsrunner_core.settings import Settings, settings_environment
from ecsrunner_core.usecases.context import Deps
from ecsrunner_core.wiring import Services
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn
from ecsrunner_sandbox.provision import Deployment, provision, push_image

REGION = "us-east-1"
REPOSITORY = "octo-org/octo-repo"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


@cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def new_session() -> boto3.Session:
    """A session with its own event hooks that shares the parsed service models.

    A moto server is selected with ``AWS_ENDPOINT_URL`` (see :func:`aws_environment`).
    """
    core = botocore.session.get_session()
    core.register_component("data_loader", _loader())
    return boto3.Session(botocore_session=core, region_name=REGION)


@contextmanager
def aws_environment(endpoint_url: str | None = None) -> Iterator[None]:
    """Dummy credentials (and a moto server endpoint) for every boto3 client made inside."""
    values = {**DUMMY_CREDENTIALS, "AWS_DEFAULT_REGION": REGION, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}
    if endpoint_url:
        values["AWS_ENDPOINT_URL"] = endpoint_url
    with environment(values):
        yield


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` inside the block; the previous values (or their absence) after."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def default_image_tag(settings: Settings, architecture: str = "x86_64") -> str:
    canonical = parse_image_reference(settings.default_base_image).canonical
    return derive_image_tag(canonical, settings.build_context_digest, architecture)


@dataclass
class Sandbox:
    """A provisioned deployment, its stand-in and a source of job ids and delivery ids."""

    deployment: Deployment
    github: GitHubStandIn
    endpoint_url: str | None
    _job_ids: Iterator[int] = field(default_factory=lambda: itertools.count(7_000_000_001))
    _deliveries: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def settings(self) -> Settings:
        return self.deployment.settings

    def next_job_id(self) -> int:
        return next(self._job_ids)

    def next_delivery(self) -> str:
        return f"{next(self._deliveries):08x}-0000-11ee-8000-000000000000"

    def push_default_image(self) -> str:
        tag = default_image_tag(self.settings)
        push_image(new_session(), self.settings, tag)
        return tag

    def services(
        self,
        session: boto3.Session,
        *,
        clock: Clock | None = None,
        github_budget_seconds: float = 4.0,
        github_client: GitHubClient | None = None,
        metrics: Any = None,
    ) -> Services:
        """The core's composition root; with ``github_client`` the GitHub port is that client."""
        services = Services(
            self.settings, session, clock=clock, metrics=metrics, github_budget_seconds=github_budget_seconds
        )
        if github_client is not None:
            services.github = github_client  # the port, injected over the cached_property
        return services

    def github_client(
        self,
        *,
        budget_seconds: float,
        sleep: Callable[[float], None],
        monotonic: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> GitHubClient:
        return GitHubClient(
            self.github.api_url,
            PatAuth(DEFAULT_PAT),
            scope_repo=REPOSITORY,
            budget_seconds=budget_seconds,
            sleep=sleep,
            clock=monotonic,
            wall_clock=wall_clock,
        )

    def deps(self, services: Services) -> Deps:
        return services.deps()


def open_sandbox(standin: GitHubStandIn, endpoint_url: str | None = None, **overrides: Any) -> Sandbox:
    """Provision a deployment (moto must be active: ``mock_aws()``, or a server selected by
    :func:`aws_environment`, whose endpoint is ``endpoint_url``)."""
    deployment = provision(
        new_session(),
        github_api_url=standin.api_url,
        github_credentials=json.dumps({"type": "pat", "token": DEFAULT_PAT}),
        github_repo=REPOSITORY,
        **overrides,
    )
    return Sandbox(deployment, standin, endpoint_url)


def lambda_environment(settings: Settings) -> dict[str, str]:
    """The Lambda environment the Terraform module sets (docs/DESIGN.md), for the real handlers."""
    return {
        **settings_environment(settings),
        "POWERTOOLS_SERVICE_NAME": "ecsrunner",
        "POWERTOOLS_METRICS_NAMESPACE": "ecsrunner",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
