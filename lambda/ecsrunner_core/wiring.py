"""The composition root: settings + one boto3 session -> the ports the use cases need.

Used by both Lambda handlers and the CLI. Clients are created on first use and then kept, so a
warm Lambda container pays for each client once and a duplicate webhook touches only what it needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config

from .adapters.clock import SystemClock
from .adapters.codebuild_builder import CodeBuildImageBuilder
from .adapters.dynamodb_store import DynamoDbStore
from .adapters.ecr_registry import EcrRegistry
from .adapters.ecs_launcher import EcsTaskLauncher
from .adapters.janitor_waker import JanitorWaker
from .adapters.parameters import SecretsManagerSecrets, SsmClassSizes
from .adapters.s3_jit_store import S3JitStore
from .ports import (
    Clock,
    GitHubAuthError,
    GitHubJob,
    GitHubPort,
    GitHubRunner,
    HookDelivery,
    HookRef,
    JitConfig,
    Metrics,
    NullMetrics,
    Page,
    WorkflowRun,
)
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


R = TypeVar("R")
# A 401 re-reads the credentials secret at most this often per container: a rotated PAT or App key
# works within seconds, and a secret that is simply wrong does not hammer Secrets Manager.
CREDENTIALS_RELOAD_SECONDS = 30.0


class LazyGitHub:
    """A GitHubPort that builds the real client (secret read, App auth) on its first call.

    On a 401 it re-reads the credentials secret once (at most every
    :data:`CREDENTIALS_RELOAD_SECONDS`) and repeats the call with a client built from it, so a
    rotated PAT or App key takes effect without waiting for Lambda to recycle the container.
    """

    def __init__(
        self,
        factory: Callable[[bool], GitHubClient],
        *,
        metrics: Metrics | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._factory = factory
        self._client: GitHubClient | None = None
        self._metrics = metrics or NullMetrics()
        self._monotonic = monotonic
        self._reloaded_at: float | None = None

    def __repr__(self) -> str:
        return "LazyGitHub()"

    @property
    def client(self) -> GitHubClient:
        if self._client is None:
            self._client = self._factory(False)
        return self._client

    def _call(self, call: Callable[[GitHubClient], R]) -> R:
        try:
            return call(self.client)
        except GitHubAuthError as exc:
            now = self._monotonic()
            recent = self._reloaded_at is not None and now - self._reloaded_at < CREDENTIALS_RELOAD_SECONDS
            if exc.status != 401 or recent:
                raise
            self._reloaded_at = now
            self._client = self._factory(True)
            self._metrics.count("CredentialsReloaded", secret="github")  # noqa: S106 (a dimension value)
            return call(self._client)

    def generate_jitconfig(
        self, *, name: str, labels: Sequence[str], runner_group_id: int, work_folder: str = "_work"
    ) -> JitConfig:
        return self._call(
            lambda c: c.generate_jitconfig(
                name=name, labels=labels, runner_group_id=runner_group_id, work_folder=work_folder
            )
        )

    def delete_runner(self, runner_id: int) -> None:
        self._call(lambda c: c.delete_runner(runner_id))

    def list_runners(self, name: str | None = None) -> Iterator[GitHubRunner]:
        return iter(self._call(lambda c: list(c.list_runners(name=name))))

    def get_runner(self, runner_id: int) -> GitHubRunner | None:
        return self._call(lambda c: c.get_runner(runner_id))

    def get_job(self, repository: str, job_id: int) -> GitHubJob | None:
        return self._call(lambda c: c.get_job(repository, job_id))

    def list_workflow_runs(self, repository: str, status: str, page: str | None = None) -> Page[WorkflowRun]:
        return self._call(lambda c: c.list_workflow_runs(repository, status, page))

    def list_run_jobs(self, repository: str, run_id: int, page: str | None = None) -> Page[GitHubJob]:
        return self._call(lambda c: c.list_run_jobs(repository, run_id, page))

    def list_installation_repositories(self, page: str | None = None) -> Page[str]:
        return self._call(lambda c: c.list_installation_repositories(page))

    def list_hook_deliveries(
        self, hook: HookRef, *, failed_only: bool = True, page: str | None = None
    ) -> Page[HookDelivery]:
        return self._call(lambda c: c.list_hook_deliveries(hook, failed_only=failed_only, page=page))

    def redeliver(self, hook: HookRef, delivery_id: int) -> None:
        self._call(lambda c: c.redeliver(hook, delivery_id))

    def rate_limit(self) -> Mapping[str, Any]:
        return self._call(lambda c: c.rate_limit())


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

    def _github_client(self, reload: bool = False) -> GitHubClient:
        from .adapters.github.auth import credentials_from_secret
        from .adapters.github.client import GitHubClient

        return GitHubClient(
            self.settings.github_api_url,
            credentials_from_secret(self.secrets.github_credentials(refresh=reload)),
            scope_repo=self.settings.github_repo,
            scope_org=self.settings.github_org,
            budget_seconds=self.github_budget_seconds,
        )

    @cached_property
    def github(self) -> GitHubPort:
        return LazyGitHub(self._github_client, metrics=self.metrics)

    @cached_property
    def waker(self) -> JanitorWaker | None:
        settings = self.settings
        if not settings.janitor_function_arn:
            return None
        return JanitorWaker(
            self.client("lambda"),
            self.client("scheduler"),
            function_arn=settings.janitor_function_arn,
            role_arn=settings.wakeup_role_arn,
            schedule_name=f"{settings.name}-resume-launches",
        )

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
            waker=self.waker,
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
