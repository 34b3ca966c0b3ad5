"""The command line itself: version, help, usage errors (exit 2), as `main(argv)` sees them."""

from __future__ import annotations

import pytest
from ecsrunner import __version__


def test_version_is_the_package_version(cli) -> None:
    result = cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"ecsrunner {__version__}"


def test_no_command_prints_help_and_exits_2(cli) -> None:
    result = cli()
    assert result.code == 2
    assert "usage: python -m ecsrunner" in result.err
    for command in ("runners", "classes", "list-class-sizes", "images", "doctor", "webhook"):
        assert command in result.err
    assert result.out == ""


def test_a_group_without_its_command_prints_that_groups_help(cli) -> None:
    result = cli("runners")
    assert result.code == 2
    assert "terminate" in result.err and "details" in result.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["runners", "list", "--status", "SLEEPING"], "unknown status 'SLEEPING'"),
        (["runners", "list", "--since", "yesterday"], "invalid duration 'yesterday'"),
        (["runners", "list", "--limit", "0"], "must be at least 1"),
        (["runners", "details"], "the following arguments are required: RUNNER_ID"),
        (["images", "build", "--arch", "mips"], "invalid choice: 'mips'"),
        (["webhook", "send", "--url", "http://x", "--payload", "f"], "one of the arguments --secret"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2_with_the_reason(cli, clean_env, argv: list[str], message: str) -> None:
    result = cli(*argv)
    assert result.code == 2
    assert message in result.err


def test_deployment_options_are_accepted_after_the_command_too(cli, clean_env) -> None:
    before = cli("--region", "eu-west-1", "runners", "list")
    after = cli("runners", "list", "--region", "eu-west-1")
    # Both parse (no usage error) and reach the configuration check.
    assert before.code == after.code == 1
    assert (
        before.err
        == after.err
        == ("error: runners list needs RUNNER_TABLE: set it in the environment or pass --terraform-dir DIR\n")
    )
