"""Settings read once from the environment into a typed object.

This is the contract between the Terraform module (which sets these variables on both Lambda
functions) and the code. Secrets are never here: only the ARNs of the Secrets Manager secrets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .domain.image_ref import ImageReferenceError, parse_image_reference
from .domain.labels import normalise_extra_labels
from .domain.names import validate_prefix
from .domain.pools import PoolError, WarmPool, pools_from_json, pools_to_json

# GitHub cancels a job that waited 24 hours for a runner; the runner's own limits follow from it.
GITHUB_QUEUE_LIMIT_SECONDS = 86_400
# GitHub lets a self-hosted job run 5 days; the default TTL lets its default timeout-minutes (360)
# finish, plus the task's start and the runner's shutdown.
GITHUB_JOB_LIMIT_SECONDS = 5 * 86_400
DEFAULT_RUNNER_TTL_SECONDS = 6 * 3600 + 3600

# GitHub account (user or organisation) names: letters, digits, '-' (and '_' for managed users).
_OWNER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*", re.ASCII)
_REPO_RE = re.compile(r"[A-Za-z0-9._-]+", re.ASCII)
_INTEGER_RE = re.compile(r"-?[0-9]+", re.ASCII)


class SettingsError(ValueError):
    """A missing or malformed setting; the message names the environment variable."""


@dataclass(frozen=True)
class Settings:
    name: str
    runner_table: str
    class_sizes_param: str
    cluster_arn: str = ""
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    assign_public_ip: bool = False
    base_task_definition_arn: str = ""
    execution_role_arn: str = ""
    task_role_arn: str = ""
    log_group_name: str = ""
    ecr_repository_url: str = ""
    jit_bucket: str = ""
    jit_kms_key_arn: str = ""
    github_repo: str | None = None
    github_org: str | None = None
    github_api_url: str = "https://api.github.com"
    github_credentials_secret_arn: str = ""
    webhook_secret_arn: str = ""
    runner_group_id: int = 1
    extra_labels: frozenset[str] = frozenset()
    max_runners: int = 0
    runner_ttl_seconds: int = DEFAULT_RUNNER_TTL_SECONDS
    starting_timeout_seconds: int = 900
    image_creating_timeout_seconds: int = 3600
    waiting_for_job_timeout_seconds: int = 1800
    launch_wait_timeout_seconds: int = GITHUB_QUEUE_LIMIT_SECONDS
    record_retention_seconds: int = 30 * 86400
    max_launch_attempts: int = 5
    max_job_relaunches: int = 3
    launch_concurrency: int = 8
    reconcile_with_github: bool = True
    reconcile_github_requests: int = 50
    webhook_hook_id: int | None = None
    webhook_app_hook: bool = False
    queued_too_long_seconds: int = 900
    janitor_function_arn: str = ""
    wakeup_role_arn: str = ""
    warm_pools: tuple[WarmPool, ...] = ()
    enable_image_build: bool = True
    codebuild_project_name: str = ""
    build_context_digest: str = "none"
    default_base_image: str = "ubuntu:22.04"
    allowed_base_images: tuple[str, ...] = ()
    container_name: str = "runner"

    @property
    def scope(self) -> str:
        return f"repo {self.github_repo}" if self.github_repo else f"org {self.github_org}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        reader = _Reader(env)
        settings = cls(
            name=reader.prefix("ECSRUNNER_NAME"),
            runner_table=reader.required("RUNNER_TABLE"),
            class_sizes_param=reader.required("CLASS_SIZES_PARAM"),
            cluster_arn=reader.text("ECS_CLUSTER_ARN"),
            subnet_ids=reader.items("SUBNET_IDS"),
            security_group_ids=reader.items("SECURITY_GROUP_IDS"),
            assign_public_ip=reader.flag("ASSIGN_PUBLIC_IP", False),
            base_task_definition_arn=reader.text("BASE_TASK_DEFINITION_ARN"),
            execution_role_arn=reader.text("EXECUTION_ROLE_ARN"),
            task_role_arn=reader.text("TASK_ROLE_ARN"),
            log_group_name=reader.text("RUNNER_LOG_GROUP"),
            ecr_repository_url=reader.text("ECR_REPOSITORY_URL"),
            jit_bucket=reader.text("JIT_BUCKET"),
            jit_kms_key_arn=reader.text("JIT_KMS_KEY_ARN"),
            github_repo=reader.text("GITHUB_REPO") or None,
            github_org=reader.text("GITHUB_ORG") or None,
            github_api_url=reader.text("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
            github_credentials_secret_arn=reader.text("GITHUB_CREDENTIALS_SECRET_ARN"),
            webhook_secret_arn=reader.text("WEBHOOK_SECRET_ARN"),
            runner_group_id=reader.integer("RUNNER_GROUP_ID", 1, minimum=1),
            extra_labels=normalise_extra_labels(reader.items("RUNNER_EXTRA_LABELS")),
            max_runners=reader.integer("MAX_RUNNERS", 0, minimum=0),
            runner_ttl_seconds=reader.integer(
                "RUNNER_TTL_SECONDS",
                DEFAULT_RUNNER_TTL_SECONDS,
                minimum=60,
                maximum=GITHUB_JOB_LIMIT_SECONDS + 3600,
            ),
            starting_timeout_seconds=reader.integer("STARTING_TIMEOUT_SECONDS", 900, minimum=60),
            image_creating_timeout_seconds=reader.integer("IMAGE_CREATING_TIMEOUT_SECONDS", 3600, minimum=60),
            waiting_for_job_timeout_seconds=reader.integer(
                "WAITING_FOR_JOB_TIMEOUT_SECONDS", 1800, minimum=60
            ),
            launch_wait_timeout_seconds=reader.integer(
                "LAUNCH_WAIT_TIMEOUT_SECONDS",
                GITHUB_QUEUE_LIMIT_SECONDS,
                minimum=60,
                maximum=GITHUB_QUEUE_LIMIT_SECONDS,
            ),
            record_retention_seconds=reader.integer("RECORD_RETENTION_SECONDS", 30 * 86400, minimum=3600),
            max_launch_attempts=reader.integer("MAX_LAUNCH_ATTEMPTS", 5, minimum=1),
            max_job_relaunches=reader.integer("MAX_JOB_RELAUNCHES", 3, minimum=0),
            launch_concurrency=reader.integer("LAUNCH_CONCURRENCY", 8, minimum=1, maximum=64),
            reconcile_with_github=reader.flag("RECONCILE_WITH_GITHUB", True),
            reconcile_github_requests=reader.integer("RECONCILE_GITHUB_REQUESTS", 50, minimum=1),
            webhook_hook_id=reader.optional_integer("WEBHOOK_HOOK_ID", minimum=1),
            webhook_app_hook=reader.flag("WEBHOOK_APP_HOOK", False),
            queued_too_long_seconds=reader.integer("QUEUED_TOO_LONG_SECONDS", 900, minimum=60),
            janitor_function_arn=reader.text("JANITOR_FUNCTION_ARN"),
            wakeup_role_arn=reader.text("WAKEUP_ROLE_ARN"),
            warm_pools=reader.pools("WARM_POOLS"),
            enable_image_build=reader.flag("ENABLE_IMAGE_BUILD", True),
            codebuild_project_name=reader.text("CODEBUILD_PROJECT_NAME"),
            build_context_digest=reader.text("BUILD_CONTEXT_DIGEST", "none"),
            default_base_image=reader.image("DEFAULT_BASE_IMAGE", "ubuntu:22.04"),
            allowed_base_images=reader.items("ALLOWED_BASE_IMAGES"),
            container_name=reader.text("RUNNER_CONTAINER_NAME", "runner"),
        )
        if settings.github_repo and settings.github_org:
            raise SettingsError("set exactly one of GITHUB_REPO and GITHUB_ORG, not both")
        if not settings.github_repo and not settings.github_org:
            raise SettingsError("set exactly one of GITHUB_REPO (OWNER/REPO) and GITHUB_ORG")
        if settings.github_repo:
            owner, _, repo = settings.github_repo.partition("/")
            if not _OWNER_RE.fullmatch(owner) or not _REPO_RE.fullmatch(repo) or repo in {".", ".."}:
                raise SettingsError(f"GITHUB_REPO must be OWNER/REPO (got {settings.github_repo!r})")
        if settings.github_org and not _OWNER_RE.fullmatch(settings.github_org):
            raise SettingsError(f"GITHUB_ORG must be an organisation name (got {settings.github_org!r})")
        return settings


# Settings field -> the environment variable that carries it (docs/DESIGN.md).
ENVIRONMENT: Mapping[str, str] = {
    "name": "ECSRUNNER_NAME",
    "runner_table": "RUNNER_TABLE",
    "class_sizes_param": "CLASS_SIZES_PARAM",
    "cluster_arn": "ECS_CLUSTER_ARN",
    "subnet_ids": "SUBNET_IDS",
    "security_group_ids": "SECURITY_GROUP_IDS",
    "assign_public_ip": "ASSIGN_PUBLIC_IP",
    "base_task_definition_arn": "BASE_TASK_DEFINITION_ARN",
    "execution_role_arn": "EXECUTION_ROLE_ARN",
    "task_role_arn": "TASK_ROLE_ARN",
    "log_group_name": "RUNNER_LOG_GROUP",
    "ecr_repository_url": "ECR_REPOSITORY_URL",
    "jit_bucket": "JIT_BUCKET",
    "jit_kms_key_arn": "JIT_KMS_KEY_ARN",
    "github_repo": "GITHUB_REPO",
    "github_org": "GITHUB_ORG",
    "github_api_url": "GITHUB_API_URL",
    "github_credentials_secret_arn": "GITHUB_CREDENTIALS_SECRET_ARN",
    "webhook_secret_arn": "WEBHOOK_SECRET_ARN",
    "runner_group_id": "RUNNER_GROUP_ID",
    "extra_labels": "RUNNER_EXTRA_LABELS",
    "max_runners": "MAX_RUNNERS",
    "runner_ttl_seconds": "RUNNER_TTL_SECONDS",
    "starting_timeout_seconds": "STARTING_TIMEOUT_SECONDS",
    "image_creating_timeout_seconds": "IMAGE_CREATING_TIMEOUT_SECONDS",
    "waiting_for_job_timeout_seconds": "WAITING_FOR_JOB_TIMEOUT_SECONDS",
    "launch_wait_timeout_seconds": "LAUNCH_WAIT_TIMEOUT_SECONDS",
    "record_retention_seconds": "RECORD_RETENTION_SECONDS",
    "max_launch_attempts": "MAX_LAUNCH_ATTEMPTS",
    "max_job_relaunches": "MAX_JOB_RELAUNCHES",
    "launch_concurrency": "LAUNCH_CONCURRENCY",
    "reconcile_with_github": "RECONCILE_WITH_GITHUB",
    "reconcile_github_requests": "RECONCILE_GITHUB_REQUESTS",
    "webhook_hook_id": "WEBHOOK_HOOK_ID",
    "webhook_app_hook": "WEBHOOK_APP_HOOK",
    "queued_too_long_seconds": "QUEUED_TOO_LONG_SECONDS",
    "janitor_function_arn": "JANITOR_FUNCTION_ARN",
    "wakeup_role_arn": "WAKEUP_ROLE_ARN",
    "warm_pools": "WARM_POOLS",
    "enable_image_build": "ENABLE_IMAGE_BUILD",
    "codebuild_project_name": "CODEBUILD_PROJECT_NAME",
    "build_context_digest": "BUILD_CONTEXT_DIGEST",
    "default_base_image": "DEFAULT_BASE_IMAGE",
    "allowed_base_images": "ALLOWED_BASE_IMAGES",
    "container_name": "RUNNER_CONTAINER_NAME",
}


def _env_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple) and value and isinstance(value[0], WarmPool):
        return pools_to_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, frozenset):
        return ",".join(sorted(value))
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment :meth:`Settings.from_env` reads back into ``settings`` (what the module sets)."""
    rendered = {var: _env_text(getattr(settings, field)) for field, var in ENVIRONMENT.items()}
    return {var: text for var, text in rendered.items() if text is not None}


@dataclass(frozen=True)
class _Reader:
    env: Mapping[str, str]

    def text(self, key: str, default: str = "") -> str:
        return self.env.get(key, default).strip() or default

    def required(self, key: str) -> str:
        value = self.text(key)
        if not value:
            raise SettingsError(f"environment variable {key} is required")
        return value

    def prefix(self, key: str) -> str:
        value = self.required(key)
        try:
            return validate_prefix(value)
        except ValueError as exc:
            raise SettingsError(f"environment variable {key}: {exc}") from None

    def image(self, key: str, default: str) -> str:
        value = self.text(key, default)
        try:
            parse_image_reference(value)
        except ImageReferenceError as exc:
            raise SettingsError(f"environment variable {key}: {exc}") from None
        return value

    def items(self, key: str) -> tuple[str, ...]:
        return tuple(item.strip() for item in self.text(key).split(",") if item.strip())

    def pools(self, key: str) -> tuple[WarmPool, ...]:
        try:
            return pools_from_json(self.text(key))
        except PoolError as exc:
            raise SettingsError(f"environment variable {key}: {exc}") from None

    def flag(self, key: str, default: bool) -> bool:
        value = self.text(key).lower()
        if not value:
            return default
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"environment variable {key} must be true or false (got {value!r})")

    def integer(self, key: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        number = self.optional_integer(key, minimum=minimum, maximum=maximum)
        return default if number is None else number

    def optional_integer(self, key: str, *, minimum: int, maximum: int | None = None) -> int | None:
        value = self.text(key)
        if not value:
            return None
        # int() alone would also take "1_000" and non-ASCII digits.
        if not _INTEGER_RE.fullmatch(value):
            raise SettingsError(f"environment variable {key} must be an integer (got {value!r})")
        number = int(value)
        if number < minimum:
            raise SettingsError(f"environment variable {key} must be at least {minimum} (got {number})")
        if maximum is not None and number > maximum:
            raise SettingsError(f"environment variable {key} must be at most {maximum} (got {number})")
        return number
