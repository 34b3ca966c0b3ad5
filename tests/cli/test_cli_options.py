"""Deployment options (--region, --profile, --terraform-dir) before the command, after it or both, and
the region from the environment as the AWS CLI v2 reads it (AWS_REGION > AWS_DEFAULT_REGION)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from ecsrunner.parser import build_parser
from ecsrunner_core.wiring import Services
from ecsrunner_sandbox.provision import provision

from tests.cli.cli_records import create, runner
from tests.cli.cli_terraform import install_fake_terraform, terraform_outputs

OTHER_REGION = "eu-west-1"

# Every command, with the arguments it needs to parse.
COMMANDS = [
    ["runners", "list"],
    ["runners", "details", "r-1"],
    ["runners", "terminate", "r-1"],
    ["runners", "stats"],
    ["runners", "logs", "r-1"],
    ["classes", "list"],
    ["list-class-sizes"],
    ["images", "list"],
    ["images", "build"],
    ["doctor"],
    ["webhook", "send", "--url", "u", "--secret", "s", "--payload", "p"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda argv: " ".join(argv[:2]))
@pytest.mark.parametrize(
    ("before", "after"),
    [
        (["--region", "r1", "--profile", "p1", "--terraform-dir", "d1"], []),
        ([], ["--region", "r1", "--profile", "p1", "--terraform-dir", "d1"]),
        (["--region", "r1"], ["--profile", "p1", "--terraform-dir", "d1"]),
        (["--profile", "p1", "--terraform-dir", "d1"], ["--region", "r1"]),
    ],
    ids=["before", "after", "mixed", "mixed-reversed"],
)
def test_deployment_options_parse_in_any_position(command, before, after) -> None:
    args = build_parser().parse_args([*before, *command, *after])
    assert (args.region, args.profile, args.terraform_dir) == ("r1", "p1", "d1")


def test_deployment_options_after_the_group_name_too() -> None:
    args = build_parser().parse_args(["runners", "--region", "r1", "list", "--profile", "p1"])
    assert (args.region, args.profile, args.terraform_dir) == ("r1", "p1", None)


def test_an_option_given_twice_takes_the_last_value() -> None:
    args = build_parser().parse_args(["--region", "r1", "runners", "list", "--region", "r2"])
    assert args.region == "r2"


def test_without_options_nothing_is_set() -> None:
    args = build_parser().parse_args(["runners", "list"])
    assert (args.region, args.profile, args.terraform_dir) == (None, None, None)


@pytest.fixture
def no_region(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """Neither region variable and no config file: only what the command line says."""
    clean_env.delenv("AWS_REGION")
    clean_env.delenv("AWS_DEFAULT_REGION")
    clean_env.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    return clean_env


@pytest.fixture
def table_in_other_region(aws) -> str:
    """A deployment with one runner in OTHER_REGION only (moto keeps regions apart)."""
    session = boto3.Session(region_name=OTHER_REGION)
    deployment = provision(session)
    create(Services(deployment.settings, session), runner("ecsr-eu", job_id=7, age=timedelta(minutes=2)))
    return deployment.settings.runner_table


def listed(result) -> list[str]:
    assert result.code == 0, result.err
    return [r["runner_id"] for r in json.loads(result.out)]


@pytest.mark.parametrize(
    "argv",
    [
        ["--region", OTHER_REGION, "runners", "list", "--json"],
        ["runners", "list", "--json", "--region", OTHER_REGION],
        ["runners", "--region", OTHER_REGION, "list", "--json"],
    ],
    ids=["before", "after", "after-group"],
)
def test_region_before_or_after_the_command_reaches_aws(
    cli, configure, no_region, table_in_other_region, argv
) -> None:
    configure(RUNNER_TABLE=table_in_other_region)
    assert listed(cli(*argv)) == ["ecsr-eu"]


def test_profile_before_the_command_is_used(cli, configure, no_region) -> None:
    configure(RUNNER_TABLE="t")
    result = cli("--profile", "nobody", "runners", "list")
    assert (result.code, result.err) == (
        1,
        "error: The config profile (nobody) could not be found: check --profile / AWS_PROFILE\n",
    )


def test_profile_before_and_region_after(cli, configure, no_region, table_in_other_region, tmp_path) -> None:
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile ops]\nregion = ap-south-1\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    no_region.setenv("AWS_CONFIG_FILE", str(config))
    configure(RUNNER_TABLE=table_in_other_region)
    # The profile's region would miss the table; --region after the command wins.
    assert listed(cli("--profile", "ops", "runners", "list", "--json", "--region", OTHER_REGION)) == [
        "ecsr-eu"
    ]


def test_terraform_dir_before_the_command_is_used(
    cli, clean_env, tmp_path: Path, deployment, services
) -> None:
    state, write = install_fake_terraform(tmp_path, clean_env)
    write(terraform_outputs(deployment))
    create(services, runner("ecsr-from-outputs", job_id=5, age=timedelta(minutes=3)))
    result = cli("--terraform-dir", str(state), "runners", "list", "--json")
    assert listed(result) == ["ecsr-from-outputs"]


# --- AWS_REGION / AWS_DEFAULT_REGION --------------------------------------------------------------


def test_aws_region_alone_is_honoured(cli, configure, no_region, table_in_other_region) -> None:
    no_region.setenv("AWS_REGION", OTHER_REGION)
    configure(RUNNER_TABLE=table_in_other_region)
    assert listed(cli("runners", "list", "--json")) == ["ecsr-eu"]


def test_aws_default_region_alone_is_honoured(cli, configure, no_region, table_in_other_region) -> None:
    no_region.setenv("AWS_DEFAULT_REGION", OTHER_REGION)
    configure(RUNNER_TABLE=table_in_other_region)
    assert listed(cli("runners", "list", "--json")) == ["ecsr-eu"]


def test_aws_region_wins_over_aws_default_region(cli, configure, no_region, table_in_other_region) -> None:
    no_region.setenv("AWS_REGION", OTHER_REGION)
    no_region.setenv("AWS_DEFAULT_REGION", "us-east-1")
    configure(RUNNER_TABLE=table_in_other_region)
    assert listed(cli("runners", "list", "--json")) == ["ecsr-eu"]


def test_region_flag_wins_over_both_variables(cli, configure, no_region, table_in_other_region) -> None:
    no_region.setenv("AWS_REGION", "us-west-2")
    no_region.setenv("AWS_DEFAULT_REGION", "us-east-1")
    configure(RUNNER_TABLE=table_in_other_region)
    assert listed(cli("runners", "list", "--json", "--region", OTHER_REGION)) == ["ecsr-eu"]


def test_a_region_missing_everywhere_names_both_ways_to_set_it(cli, configure, no_region) -> None:
    configure(RUNNER_TABLE="t")
    result = cli("runners", "list")
    assert (result.code, result.err) == (1, "error: no AWS region: pass --region, or set AWS_REGION\n")
