"""Where settings come from (flags > --terraform-dir > environment) and one-line configuration errors."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from ecsrunner.config import Configuration
from ecsrunner_sandbox.provision import Deployment

from tests.cli.cli_records import create, runner
from tests.cli.cli_terraform import install_fake_terraform, terraform_outputs
from tests.cli.conftest import REGION


@pytest.fixture
def fake_terraform(tmp_path: Path, clean_env: pytest.MonkeyPatch):
    return install_fake_terraform(tmp_path, clean_env)


def test_missing_table_variable_is_one_line(cli, clean_env) -> None:
    result = cli("runners", "list")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "error: runners list needs RUNNER_TABLE: set it in the environment or pass --terraform-dir DIR\n"
    )


def test_read_only_commands_need_only_their_variable(cli, configure, deployment: Deployment) -> None:
    configure(RUNNER_TABLE=deployment.settings.runner_table)
    assert cli("runners", "list", "--json").code == 0
    assert cli("images", "list", "--json").code == 0
    result = cli("classes", "list")
    assert result.code == 1
    assert "classes list needs CLASS_SIZES_PARAM" in result.err
    configure(CLASS_SIZES_PARAM=deployment.settings.class_sizes_param)
    assert cli("classes", "list", "--json").code == 0


@pytest.mark.parametrize(
    ("argv", "missing"),
    [
        (["runners", "terminate", "r", "--yes"], "ECS_CLUSTER_ARN, SUBNET_IDS"),
        (["images", "build"], "ECR_REPOSITORY_URL, BASE_TASK_DEFINITION_ARN, BUILD_CONTEXT_DIGEST"),
    ],
)
def test_acting_commands_name_every_missing_variable(cli, configure, deployment, argv, missing) -> None:
    configure(
        ECSRUNNER_NAME="ecsr",
        RUNNER_TABLE=deployment.settings.runner_table,
        CLASS_SIZES_PARAM=deployment.settings.class_sizes_param,
        GITHUB_REPO="octo-org/octo-repo",
    )
    result = cli(*argv)
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert missing in result.err and "pass --terraform-dir DIR" in result.err


def test_acting_commands_report_the_first_settings_error(cli, configure) -> None:
    configure(RUNNER_TABLE="t", CLASS_SIZES_PARAM="p")
    result = cli("doctor")
    assert result.code == 1
    assert result.err == (
        "error: configuration: environment variable ECSRUNNER_NAME is required "
        "(or pass --terraform-dir DIR)\n"
    )


def test_malformed_setting_is_named(cli, configure) -> None:
    configure(RUNNER_TABLE="t", MAX_RUNNERS="many")
    result = cli("runners", "list")
    assert result.code == 1
    assert "MAX_RUNNERS must be an integer (got 'many')" in result.err


def test_terraform_dir_outputs_configure_the_cli(
    cli, fake_terraform, configure, deployment, services
) -> None:
    state, write = fake_terraform
    write(terraform_outputs(deployment))
    configure(RUNNER_TABLE="a-table-that-does-not-exist")  # the outputs win over the environment
    create(services, runner("ecsr-from-terraform", job_id=5, age=timedelta(minutes=3)))
    result = cli("runners", "list", "--json", "--terraform-dir", str(state))
    assert result.code == 0, result.err
    assert [r["runner_id"] for r in json.loads(result.out)] == ["ecsr-from-terraform"]


def test_terraform_cli_environment_is_completed_from_individual_outputs(fake_terraform, deployment) -> None:
    state, write = fake_terraform
    outputs = terraform_outputs(deployment, cli_environment={"ECSRUNNER_NAME": "ecsr", "MAX_RUNNERS": 4})
    write(outputs)
    config = Configuration.resolve({}, terraform_dir=str(state))
    assert config.value("RUNNER_TABLE") == deployment.settings.runner_table
    assert config.value("ECS_CLUSTER_ARN") == deployment.settings.cluster_arn
    assert config.value("MAX_RUNNERS") == "4"
    assert config.source == f"the Terraform outputs in {state}"
    assert config.outputs["webhook_url"].startswith("https://")


def test_region_flag_wins_over_terraform_and_environment(fake_terraform, deployment) -> None:
    state, write = fake_terraform
    write(terraform_outputs(deployment, region="eu-west-1"))
    assert Configuration.resolve({}, terraform_dir=str(state)).region == "eu-west-1"
    assert Configuration.resolve({}, terraform_dir=str(state), region="ap-south-1").region == "ap-south-1"
    assert Configuration.resolve({"AWS_REGION": "us-west-2"}, terraform_dir=str(state)).region == "eu-west-1"
    assert Configuration.resolve({"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "us-east-2"}).region == (
        "us-west-2"
    )
    assert Configuration.resolve({"AWS_DEFAULT_REGION": "us-east-2"}).region == "us-east-2"
    assert Configuration.resolve({}).region is None  # boto3 then reads the profile's configuration


def test_terraform_failure_is_one_line(cli, fake_terraform, clean_env) -> None:
    state, write = fake_terraform
    write({})
    clean_env.setenv("TERRAFORM_FAIL", "Backend initialization required")
    result = cli("runners", "list", "--terraform-dir", str(state))
    assert result.code == 1
    assert result.err == (
        f"error: terraform output in {state} failed (exit 1): Error: Backend initialization required\n"
    )


def test_terraform_without_outputs_says_apply_first(cli, fake_terraform) -> None:
    state, write = fake_terraform
    write({})
    result = cli("runners", "list", "--terraform-dir", str(state))
    assert (result.code, result.err) == (
        1,
        f"error: no Terraform outputs in {state}: run terraform apply there first\n",
    )


def test_terraform_outputs_without_what_a_command_needs(cli, fake_terraform) -> None:
    state, write = fake_terraform
    write({"webhook_url": {"sensitive": False, "type": "string", "value": "https://x"}})
    result = cli("classes", "list", "--terraform-dir", str(state))
    assert result.code == 1
    assert result.err == (
        f"error: classes list needs CLASS_SIZES_PARAM, which the Terraform outputs in {state} "
        "do not provide (cli_environment)\n"
    )


def test_missing_terraform_binary_is_one_line(cli, tmp_path: Path, clean_env) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    clean_env.setenv("PATH", str(empty))
    result = cli("runners", "list", "--terraform-dir", str(tmp_path))
    assert result.code == 1
    assert (
        result.err
        == "error: terraform not found on PATH: install Terraform, or set RUNNER_TABLE etc. instead\n"
    )


def test_missing_terraform_dir(cli, tmp_path: Path, clean_env) -> None:
    result = cli("runners", "list", "--terraform-dir", str(tmp_path / "nope"))
    assert (result.code, result.err) == (
        1,
        f"error: --terraform-dir {tmp_path / 'nope'}: no such directory\n",
    )


def test_missing_table_names_table_and_region(cli, configure, aws) -> None:
    configure(RUNNER_TABLE="no-such-table")
    result = cli("runners", "list", "--status", "RUNNING")
    assert result.code == 1
    assert result.err == f"error: table no-such-table not found in region {REGION}: check RUNNER_TABLE\n"


def test_missing_table_with_region_flag(cli, configure, aws) -> None:
    configure(RUNNER_TABLE="no-such-table")
    result = cli("runners", "details", "r-1", "--region", REGION)
    assert result.code == 1
    assert result.err == f"error: table no-such-table not found in region {REGION}: check RUNNER_TABLE\n"


def test_missing_credentials_is_one_line(cli, configure, clean_env, tmp_path: Path) -> None:
    configure(RUNNER_TABLE="t")
    clean_env.delenv("AWS_ACCESS_KEY_ID")
    clean_env.delenv("AWS_SECRET_ACCESS_KEY")
    # No shared files and no instance metadata: nothing else can supply credentials.
    clean_env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    clean_env.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    clean_env.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = cli("runners", "list")
    assert result.code == 1
    assert result.err == (
        "error: no AWS credentials: pass --profile, or set AWS_PROFILE or AWS_ACCESS_KEY_ID and its secret\n"
    )


def test_missing_region_is_one_line(cli, configure, clean_env, tmp_path: Path) -> None:
    configure(RUNNER_TABLE="t")
    clean_env.delenv("AWS_REGION")
    clean_env.delenv("AWS_DEFAULT_REGION")
    clean_env.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    result = cli("runners", "list")
    assert (result.code, result.err) == (1, "error: no AWS region: pass --region, or set AWS_REGION\n")


def test_unknown_profile_is_one_line(cli, configure, clean_env, tmp_path: Path) -> None:
    configure(RUNNER_TABLE="t")
    clean_env.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    result = cli("runners", "list", "--profile", "nobody")
    assert result.code == 1
    assert (
        result.err == "error: The config profile (nobody) could not be found: check --profile / AWS_PROFILE\n"
    )


def test_unreachable_endpoint_is_one_line(cli, configure, clean_env) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    configure(RUNNER_TABLE="t", AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_MAX_ATTEMPTS="1")
    result = cli("runners", "details", "r-1")
    assert result.code == 1
    assert result.err.startswith(f'error: Could not connect to the endpoint URL: "http://127.0.0.1:{port}/"')
    assert result.err.endswith(": check the network, --region and AWS_ENDPOINT_URL\n")
