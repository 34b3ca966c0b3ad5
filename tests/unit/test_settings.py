"""Settings from the environment: the contract in docs/DESIGN.md."""

from __future__ import annotations

import pytest
from ecsrunner_core.settings import Settings, SettingsError
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.domain.support import EXAMPLES

MINIMAL = {
    "ECSRUNNER_NAME": "demo",
    "RUNNER_TABLE": "demo-runners",
    "CLASS_SIZES_PARAM": "/demo/class-sizes",
    "GITHUB_REPO": "octo/repo",
}

FULL = {
    "ECSRUNNER_NAME": "prod-fleet",
    "RUNNER_TABLE": "prod-fleet-runners",
    "CLASS_SIZES_PARAM": "/prod-fleet/class-sizes",
    "ECS_CLUSTER_ARN": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod-fleet",
    "SUBNET_IDS": "subnet-1, subnet-2,,",
    "SECURITY_GROUP_IDS": "sg-1",
    "ASSIGN_PUBLIC_IP": "TRUE",
    "BASE_TASK_DEFINITION_ARN": "arn:aws:ecs:eu-west-1:123456789012:task-definition/prod-fleet:3",
    "EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/exec",
    "TASK_ROLE_ARN": "arn:aws:iam::123456789012:role/task",
    "RUNNER_LOG_GROUP": "/ecsrunner/prod-fleet",
    "RUNNER_CONTAINER_NAME": "gha",
    "ECR_REPOSITORY_URL": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/prod-fleet",
    "JIT_BUCKET": "prod-fleet-jit",
    "JIT_KMS_KEY_ARN": "arn:aws:kms:eu-west-1:123456789012:key/1",
    "GITHUB_ORG": "octo-org",
    "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
    "GITHUB_CREDENTIALS_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:creds",
    "WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook",
    "RUNNER_GROUP_ID": "7",
    "RUNNER_EXTRA_LABELS": "GPU, team-a ,",
    "MAX_RUNNERS": "20",
    "RUNNER_TTL_SECONDS": "3600",
    "STARTING_TIMEOUT_SECONDS": "600",
    "IMAGE_CREATING_TIMEOUT_SECONDS": "1200",
    "WAITING_FOR_JOB_TIMEOUT_SECONDS": "300",
    "RECORD_RETENTION_SECONDS": "86400",
    "MAX_LAUNCH_ATTEMPTS": "3",
    "LAUNCH_WAIT_TIMEOUT_SECONDS": "7200",
    "MAX_JOB_RELAUNCHES": "0",
    "LAUNCH_CONCURRENCY": "16",
    "RECONCILE_WITH_GITHUB": "off",
    "RECONCILE_GITHUB_REQUESTS": "200",
    "WEBHOOK_HOOK_ID": "12345678",
    "WEBHOOK_APP_HOOK": "yes",
    "QUEUED_TOO_LONG_SECONDS": "600",
    "JANITOR_FUNCTION_ARN": "arn:aws:lambda:eu-west-1:123456789012:function:prod-fleet-janitor",
    "WAKEUP_ROLE_ARN": "arn:aws:iam::123456789012:role/prod-fleet-wakeup",
    "ENABLE_IMAGE_BUILD": "false",
    "CODEBUILD_PROJECT_NAME": "prod-fleet-images",
    "BUILD_CONTEXT_DIGEST": "c" * 64,
    "DEFAULT_BASE_IMAGE": "public.ecr.aws/docker/library/debian:12",
    "ALLOWED_BASE_IMAGES": "docker.io/library/*, ghcr.io/octo/*",
}


def env(**changes: str | None) -> dict[str, str]:
    result = dict(MINIMAL)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def test_defaults() -> None:
    settings = Settings.from_env(MINIMAL)
    assert settings == Settings(
        name="demo",
        runner_table="demo-runners",
        class_sizes_param="/demo/class-sizes",
        github_repo="octo/repo",
    )
    # The documented defaults (docs/DESIGN.md), spelled out.
    assert settings.github_api_url == "https://api.github.com"
    assert settings.container_name == "runner"
    assert settings.runner_group_id == 1
    assert settings.max_runners == 0
    # 6 h (GitHub's default job timeout-minutes) plus an hour for the task's start and shutdown.
    assert settings.runner_ttl_seconds == 25200
    assert settings.starting_timeout_seconds == 900
    assert settings.image_creating_timeout_seconds == 3600
    assert settings.waiting_for_job_timeout_seconds == 1800
    assert settings.launch_wait_timeout_seconds == 86400  # GitHub's 24-hour queue limit
    assert settings.max_launch_attempts == 5
    assert settings.max_job_relaunches == 3
    assert settings.launch_concurrency == 8
    assert settings.reconcile_with_github is True
    assert settings.reconcile_github_requests == 50
    assert settings.webhook_hook_id is None
    assert settings.webhook_app_hook is False
    assert settings.queued_too_long_seconds == 900
    assert settings.janitor_function_arn == ""
    assert settings.enable_image_build is True
    assert settings.assign_public_ip is False
    assert settings.default_base_image == "ubuntu:22.04"
    assert settings.allowed_base_images == ()
    assert settings.extra_labels == frozenset()
    assert settings.github_org is None
    assert settings.scope == "repo octo/repo"


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(FULL)
    assert settings.name == "prod-fleet"
    assert settings.runner_table == "prod-fleet-runners"
    assert settings.class_sizes_param == "/prod-fleet/class-sizes"
    assert settings.cluster_arn == FULL["ECS_CLUSTER_ARN"]
    assert settings.subnet_ids == ("subnet-1", "subnet-2")
    assert settings.security_group_ids == ("sg-1",)
    assert settings.assign_public_ip is True
    assert settings.base_task_definition_arn == FULL["BASE_TASK_DEFINITION_ARN"]
    assert settings.execution_role_arn == FULL["EXECUTION_ROLE_ARN"]
    assert settings.task_role_arn == FULL["TASK_ROLE_ARN"]
    assert settings.log_group_name == "/ecsrunner/prod-fleet"
    assert settings.container_name == "gha"
    assert settings.ecr_repository_url == FULL["ECR_REPOSITORY_URL"]
    assert settings.jit_bucket == "prod-fleet-jit"
    assert settings.jit_kms_key_arn == FULL["JIT_KMS_KEY_ARN"]
    assert settings.github_repo is None
    assert settings.github_org == "octo-org"
    assert settings.scope == "org octo-org"
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert settings.github_credentials_secret_arn == FULL["GITHUB_CREDENTIALS_SECRET_ARN"]
    assert settings.webhook_secret_arn == FULL["WEBHOOK_SECRET_ARN"]
    assert settings.runner_group_id == 7
    assert settings.extra_labels == frozenset({"gpu", "team-a"})
    assert settings.max_runners == 20
    assert settings.runner_ttl_seconds == 3600
    assert settings.starting_timeout_seconds == 600
    assert settings.image_creating_timeout_seconds == 1200
    assert settings.waiting_for_job_timeout_seconds == 300
    assert settings.record_retention_seconds == 86400
    assert settings.max_launch_attempts == 3
    assert settings.launch_wait_timeout_seconds == 7200
    assert settings.max_job_relaunches == 0
    assert settings.launch_concurrency == 16
    assert settings.reconcile_with_github is False
    assert settings.reconcile_github_requests == 200
    assert settings.webhook_hook_id == 12345678
    assert settings.webhook_app_hook is True
    assert settings.queued_too_long_seconds == 600
    assert settings.janitor_function_arn == FULL["JANITOR_FUNCTION_ARN"]
    assert settings.wakeup_role_arn == FULL["WAKEUP_ROLE_ARN"]
    assert settings.enable_image_build is False
    assert settings.codebuild_project_name == "prod-fleet-images"
    assert settings.build_context_digest == "c" * 64
    assert settings.default_base_image == "public.ecr.aws/docker/library/debian:12"
    assert settings.allowed_base_images == ("docker.io/library/*", "ghcr.io/octo/*")


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in FULL:
        monkeypatch.delenv(key, raising=False)
    for key, value in MINIMAL.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MAX_RUNNERS", "4")
    settings = Settings.from_env()
    assert (settings.name, settings.max_runners) == ("demo", 4)


@pytest.mark.parametrize("key", ["ECSRUNNER_NAME", "RUNNER_TABLE", "CLASS_SIZES_PARAM"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_required_variables(key: str, value: str | None) -> None:
    with pytest.raises(SettingsError, match=f"environment variable {key} is required"):
        Settings.from_env(env(**{key: value}))


@pytest.mark.parametrize("name", ["Demo", "-demo", "de_mo", "d" * 37, "demo.x"])
def test_invalid_deployment_name_names_the_variable(name: str) -> None:
    with pytest.raises(SettingsError, match="ECSRUNNER_NAME"):
        Settings.from_env(env(ECSRUNNER_NAME=name))


def test_deployment_name_is_stripped() -> None:
    assert Settings.from_env(env(ECSRUNNER_NAME=" demo \n")).name == "demo"


def test_repo_and_org_are_exclusive() -> None:
    with pytest.raises(SettingsError, match="exactly one of GITHUB_REPO and GITHUB_ORG"):
        Settings.from_env(env(GITHUB_ORG="octo"))
    with pytest.raises(SettingsError, match="exactly one of GITHUB_REPO"):
        Settings.from_env(env(GITHUB_REPO=None))
    with pytest.raises(SettingsError, match="exactly one of GITHUB_REPO"):
        Settings.from_env(env(GITHUB_REPO=" "))
    assert Settings.from_env(env(GITHUB_REPO=None, GITHUB_ORG="octo")).github_org == "octo"


@pytest.mark.parametrize(
    "repo", ["octo", "octo/", "/repo", "octo/repo/x", "octo repo/x", "octo/re po", "octo/.."]
)
def test_invalid_repo(repo: str) -> None:
    with pytest.raises(SettingsError, match="GITHUB_REPO must be OWNER/REPO"):
        Settings.from_env(env(GITHUB_REPO=repo))


@pytest.mark.parametrize("repo", ["octo/repo", "Octo-Org/my.repo_2", "a/b", "user_emu/x-y"])
def test_valid_repo(repo: str) -> None:
    assert Settings.from_env(env(GITHUB_REPO=repo)).github_repo == repo


@pytest.mark.parametrize("org", ["octo/org", "-octo", "octo org", "octo?"])
def test_invalid_org(org: str) -> None:
    with pytest.raises(SettingsError, match="GITHUB_ORG"):
        Settings.from_env(env(GITHUB_REPO=None, GITHUB_ORG=org))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        *[("1", True), ("true", True), ("True", True), ("YES", True), ("on", True)],
        *[("0", False), ("false", False), ("FALSE", False), ("no", False), ("Off", False)],
    ],
)
def test_booleans(text: str, value: bool) -> None:
    flags = ("ASSIGN_PUBLIC_IP", "ENABLE_IMAGE_BUILD", "RECONCILE_WITH_GITHUB", "WEBHOOK_APP_HOOK")
    settings = Settings.from_env(env(**dict.fromkeys(flags, text)))
    assert settings.assign_public_ip is value
    assert settings.enable_image_build is value
    assert settings.reconcile_with_github is value
    assert settings.webhook_app_hook is value


@pytest.mark.parametrize(
    "key", ["ASSIGN_PUBLIC_IP", "ENABLE_IMAGE_BUILD", "RECONCILE_WITH_GITHUB", "WEBHOOK_APP_HOOK"]
)
@pytest.mark.parametrize("text", ["maybe", "2", "y", "tru"])
def test_bad_booleans_name_the_variable(key: str, text: str) -> None:
    with pytest.raises(SettingsError, match=f"environment variable {key} must be true or false"):
        Settings.from_env(env(**{key: text}))


INTEGERS = {
    "RUNNER_GROUP_ID": 1,
    "MAX_RUNNERS": 0,
    "RUNNER_TTL_SECONDS": 60,
    "STARTING_TIMEOUT_SECONDS": 60,
    "IMAGE_CREATING_TIMEOUT_SECONDS": 60,
    "WAITING_FOR_JOB_TIMEOUT_SECONDS": 60,
    "RECORD_RETENTION_SECONDS": 3600,
    "MAX_LAUNCH_ATTEMPTS": 1,
    "LAUNCH_WAIT_TIMEOUT_SECONDS": 60,
    "MAX_JOB_RELAUNCHES": 0,
    "LAUNCH_CONCURRENCY": 1,
    "RECONCILE_GITHUB_REQUESTS": 1,
    "WEBHOOK_HOOK_ID": 1,
    "QUEUED_TOO_LONG_SECONDS": 60,
}
FIELDS = {
    "RUNNER_GROUP_ID": "runner_group_id",
    "MAX_RUNNERS": "max_runners",
    "RUNNER_TTL_SECONDS": "runner_ttl_seconds",
    "STARTING_TIMEOUT_SECONDS": "starting_timeout_seconds",
    "IMAGE_CREATING_TIMEOUT_SECONDS": "image_creating_timeout_seconds",
    "WAITING_FOR_JOB_TIMEOUT_SECONDS": "waiting_for_job_timeout_seconds",
    "RECORD_RETENTION_SECONDS": "record_retention_seconds",
    "MAX_LAUNCH_ATTEMPTS": "max_launch_attempts",
    "LAUNCH_WAIT_TIMEOUT_SECONDS": "launch_wait_timeout_seconds",
    "MAX_JOB_RELAUNCHES": "max_job_relaunches",
    "LAUNCH_CONCURRENCY": "launch_concurrency",
    "RECONCILE_GITHUB_REQUESTS": "reconcile_github_requests",
    "WEBHOOK_HOOK_ID": "webhook_hook_id",
    "QUEUED_TOO_LONG_SECONDS": "queued_too_long_seconds",
}
MAXIMUMS = {
    # GitHub lets a self-hosted job run 5 days; the TTL may cover that plus an hour.
    "RUNNER_TTL_SECONDS": 5 * 86400 + 3600,
    "LAUNCH_WAIT_TIMEOUT_SECONDS": 86400,  # GitHub cancels a job queued longer
    "LAUNCH_CONCURRENCY": 64,
}


@pytest.mark.parametrize("key", list(MAXIMUMS))
def test_integer_maximums(key: str) -> None:
    maximum = MAXIMUMS[key]
    assert getattr(Settings.from_env(env(**{key: str(maximum)})), FIELDS[key]) == maximum
    with pytest.raises(SettingsError, match=f"environment variable {key} must be at most {maximum}"):
        Settings.from_env(env(**{key: str(maximum + 1)}))


@pytest.mark.parametrize("key", list(INTEGERS))
def test_integer_minimums(key: str) -> None:
    minimum = INTEGERS[key]
    assert getattr(Settings.from_env(env(**{key: str(minimum)})), FIELDS[key]) == minimum
    assert getattr(Settings.from_env(env(**{key: f" {minimum + 5} "})), FIELDS[key]) == minimum + 5
    with pytest.raises(SettingsError, match=f"environment variable {key} must be at least {minimum}"):
        Settings.from_env(env(**{key: str(minimum - 1)}))


@pytest.mark.parametrize("key", list(INTEGERS))
@pytest.mark.parametrize("text", ["ten", "1.5", "1e3", "1_000", "0x10", "\u0661\u0662", "+-1", "12abc"])
def test_bad_integers_name_the_variable(key: str, text: str) -> None:
    with pytest.raises(SettingsError, match=f"environment variable {key} must be an integer"):
        Settings.from_env(env(**{key: text}))


@pytest.mark.parametrize("image", ["Ubuntu:22.04", "ubuntu:22.04;id", "ubuntu 22.04", "ubuntu:"])
def test_invalid_default_base_image_names_the_variable(image: str) -> None:
    with pytest.raises(SettingsError, match="DEFAULT_BASE_IMAGE"):
        Settings.from_env(env(DEFAULT_BASE_IMAGE=image))


KEYS = sorted(set(FULL) | set(MINIMAL))


@EXAMPLES
@given(
    st.dictionaries(
        st.sampled_from(KEYS),
        st.text(max_size=12) | st.sampled_from(["", "0", "1", "60", "true", "demo", "octo/repo", "-5"]),
        max_size=len(KEYS),
    ),
    st.booleans(),
)
def test_any_environment_gives_settings_or_settings_error(changes: dict[str, str], start_full: bool) -> None:
    environment = {**(FULL if start_full else MINIMAL), **changes}
    try:
        settings = Settings.from_env(environment)
    except SettingsError as exc:
        assert str(exc)
        return
    assert (settings.github_repo is None) != (settings.github_org is None)
    assert settings.name and settings.runner_table and settings.class_sizes_param


def test_the_environment_table_names_every_setting_and_round_trips() -> None:
    from dataclasses import fields

    from ecsrunner_core.settings import ENVIRONMENT, settings_environment

    assert set(ENVIRONMENT) == {f.name for f in fields(Settings)}
    settings = Settings(
        name="ecsr",
        runner_table="t",
        class_sizes_param="/p",
        subnet_ids=("subnet-1", "subnet-2"),
        assign_public_ip=True,
        github_org="octo-org",
        extra_labels=frozenset({"gpu", "fast"}),
        max_runners=7,
        enable_image_build=False,
        allowed_base_images=("ubuntu:*", "public.ecr.aws/*"),
    )
    environment = settings_environment(settings)
    assert "GITHUB_REPO" not in environment and environment["ASSIGN_PUBLIC_IP"] == "true"
    assert Settings.from_env(environment) == settings
