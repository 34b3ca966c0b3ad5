"""The composition root: settings + one boto3 session -> the ports the use cases need.

Used by both Lambda handlers and the CLI. Clients are created on first use and then kept, so a
warm Lambda container pays for each client once and a duplicate webhook touches only what it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from .adapters.clock import SystemClock
from .adapters.codebuild_builder import CodeBuildImageBuilder
from .adapters.dynamodb_store import DynamoDbStore
from .adapters.ecr_registry import EcrRegistry
from .adapters.ecs_launcher import EcsTaskLauncher
from .adapters.parameters import SecretsManagerSecrets, SsmClassSizes
from .adapters.s3_jit_store import S3JitStore
from .ports import Clock, GitHubPort, GitHubRunner, JitConfig, Metrics, NullMetrics
from .settings import Settings
from .usecases.context import Deps

if TYPE_CHECKING:
    from .adapters.github.client import GitHubClient

AWS_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=3,
    read_timeout=10,
    user_agent_extra="ecsrunner",
)


class LazyGitHub:
    """A GitHubPort that builds the real client (secret read, App auth) on its first call."""

    def __init__(self, factory: Callable[[], GitHubClient]) -> None:
        self._factory = factory
        self._client: GitHubClient | None = None

    def __repr__(self) -> str:
        return "LazyGitHub()"

    @property
    def client(self) -> GitHubClient:
        if self._client is None:
            self._client = self._factory()
        return self._client

    def generate_jitconfig(
        self, *, name: str, labels: Sequence[str], runner_group_id: int, work_folder: str = "_work"
    ) -> JitConfig:
        return self.client.generate_jitconfig(
            name=name, labels=labels, runner_group_id=runner_group_id, work_folder=work_folder
        )

    def delete_runner(self, runner_id: int) -> None:
        self.client.delete_runner(runner_id)

    def list_runners(self, name: str | None = None) -> Iterator[GitHubRunner]:
        return self.client.list_runners(name=name)

    def get_job(self, repository: str, job_id: int) -> Mapping[str, Any]:
        return self.client.get_job(repository, job_id)

    def rate_limit(self) -> Mapping[str, Any]:
        return self.client.rate_limit()


class Services:
    """Lazily built clients and adapters for one deployment."""

    def __init__(
        self,
        settings: Settings,
        session: boto3.Session | None = None,
        *,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
        github_budget_seconds: float = 5.0,
    ) -> None:
        self.settings = settings
        self.session = session or boto3.Session()
        self.clock = clock or SystemClock()
        self.metrics = metrics or NullMetrics()
        self.github_budget_seconds = github_budget_seconds

    def client(self, service: str) -> Any:
        return self.session.client(service, config=AWS_CONFIG)  # type: ignore[call-overload]

    @cached_property
    def store(self) -> DynamoDbStore:
        return DynamoDbStore(
            self.client("dynamodb"),
            self.settings.runner_table,
            self.clock,
            max_runners=self.settings.max_runners,
            retention=timedelta(seconds=self.settings.record_retention_seconds),
        )

    @cached_property
    def secrets(self) -> SecretsManagerSecrets:
        return SecretsManagerSecrets(
            self.client("secretsmanager"),
            self.settings.webhook_secret_arn,
            self.settings.github_credentials_secret_arn,
        )

    @cached_property
    def classes(self) -> SsmClassSizes:
        return SsmClassSizes(self.client("ssm"), self.settings.class_sizes_param)

    @cached_property
    def launcher(self) -> EcsTaskLauncher:
        return EcsTaskLauncher(self.client("ecs"), self.settings)

    @cached_property
    def registry(self) -> EcrRegistry:
        return EcrRegistry(self.client("ecr"), self.settings.ecr_repository_url)

    @cached_property
    def builder(self) -> CodeBuildImageBuilder:
        return CodeBuildImageBuilder(self.client("codebuild"), self.settings.codebuild_project_name)

    @cached_property
    def jit(self) -> S3JitStore:
        return S3JitStore(
            self.client("s3"),
            self.settings.jit_bucket,
            self.settings.jit_kms_key_arn,
            partition=self.session.get_partition_for_region(self.session.region_name or "us-east-1"),
        )

    def _github_client(self) -> GitHubClient:
        from .adapters.github.auth import credentials_from_secret
        from .adapters.github.client import GitHubClient

        return GitHubClient(
            self.settings.github_api_url,
            credentials_from_secret(self.secrets.github_credentials()),
            scope_repo=self.settings.github_repo,
            scope_org=self.settings.github_org,
            budget_seconds=self.github_budget_seconds,
        )

    @cached_property
    def github(self) -> GitHubPort:
        return LazyGitHub(self._github_client)

    def deps(self) -> Deps:
        return Deps(
            settings=self.settings,
            store=self.store,
            images=self.store,
            github=self.github,
            launcher=self._lazy("launcher"),
            registry=self._lazy("registry"),
            builder=self._lazy("builder") if self.settings.enable_image_build else None,
            jit=self._lazy("jit"),
            classes=self.classes,
            secrets=self.secrets,
            clock=self.clock,
            metrics=self.metrics,
        )

    def _lazy(self, name: str) -> Any:
        return _LazyAttribute(lambda: getattr(self, name))


class _LazyAttribute:
    """Defers building an adapter (and its boto3 client) until a method is called on it."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build

    def __getattr__(self, item: str) -> Any:
        return getattr(self._build(), item)


def build_services(settings: Settings | None = None, **kwargs: Any) -> Services:
    return Services(settings or Settings.from_env(), **kwargs)
