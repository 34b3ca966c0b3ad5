"""The command line: every command, its options and the function that runs it."""

from __future__ import annotations

import argparse
from typing import Any

from ecsrunner_core.domain.status import RunnerStatus

from . import __version__
from .commands import classes, doctor, image_build, images, pools, runner_logs, runners, stats, webhook
from .humanize import parse_duration

DESCRIPTION = "Operate an ecsrunner deployment: runners, classes, images, health checks and webhooks."
CONFIG_HELP = """configuration (flags > --terraform-dir outputs > environment):
  RUNNER_TABLE, CLASS_SIZES_PARAM   enough for runners list/details, classes list
  the Lambdas' environment          runners terminate, images build, doctor (see docs/DESIGN.md)
  AWS_PROFILE, AWS_REGION (else AWS_DEFAULT_REGION), AWS_ENDPOINT_URL are honoured as by the AWS CLI v2

exit codes: 0 ok, 1 failure, 2 usage"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative (got {text})")
    return value


def _fraction(text: str) -> float:
    value = _non_negative_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (got {text})")
    return value


def _duration(text: str) -> Any:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _status(text: str) -> RunnerStatus:
    try:
        return RunnerStatus(text.strip().upper())
    except ValueError:
        valid = ", ".join(s.value for s in RunnerStatus)
        raise argparse.ArgumentTypeError(f"unknown status {text!r}; valid: {valid}") from None


def _deployment_options(parser: argparse.ArgumentParser, default: Any) -> None:
    group = parser.add_argument_group("deployment")
    group.add_argument(
        "--region", default=default, help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION)"
    )
    group.add_argument("--profile", default=default, help="AWS profile (default: AWS_PROFILE)")
    group.add_argument(
        "--terraform-dir",
        metavar="DIR",
        default=default,
        help="read the deployment from `terraform output -json` in DIR",
    )


def _common() -> argparse.ArgumentParser:
    """The deployment options of every group and command, accepted after its name too.

    They default to SUPPRESS there: a subparser parses into a namespace of its own that is then
    copied onto the top-level one, so a default would overwrite a value given before the command.
    The top-level parser declares its own copies (default None): ``parents=`` shares the action
    objects, and a ``set_defaults`` on one parser would change the defaults of all of them.
    """
    common = argparse.ArgumentParser(add_help=False)
    _deployment_options(common, argparse.SUPPRESS)
    return common


class _Commands:
    """Adds groups and commands; each takes the deployment options after its name too."""

    def __init__(self, commands: Any, common: argparse.ArgumentParser) -> None:
        self.top = commands
        self._common = common

    def group(self, name: str, help_text: str) -> Any:
        sub = self.top.add_parser(name, help=help_text, description=help_text, parents=[self._common])
        sub.set_defaults(command_parser=sub)
        return sub.add_subparsers(title="commands", metavar="COMMAND")

    def command(self, where: Any, name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = where.add_parser(
            name, help=help_text, description=help_text, parents=[self._common]
        )
        sub.set_defaults(handler=handler)
        return sub


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ecsrunner",
        description=DESCRIPTION,
        epilog=CONFIG_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _deployment_options(parser, None)
    parser.add_argument("--version", action="version", version=f"ecsrunner {__version__}")
    cli = _Commands(parser.add_subparsers(title="commands", metavar="COMMAND"), _common())
    _runner_commands(cli)
    _pool_commands(cli)
    _class_and_image_commands(cli)
    _check_and_webhook_commands(cli)
    return parser


def _runner_commands(cli: _Commands) -> None:
    runner_commands = cli.group("runners", "inspect and terminate runners")
    listing = cli.command(runner_commands, "list", "runners, newest first", runners.list_command)
    listing.add_argument(
        "--status",
        type=_status,
        nargs="+",
        action="extend",
        metavar="S",
        help="only these statuses (queried on the status index)",
    )
    listing.add_argument(
        "--since", type=_duration, metavar="DURATION", help="created within, e.g. 2h, 30m, 1d"
    )
    listing.add_argument("--limit", type=_positive_int, metavar="N", help="at most N runners")
    listing.add_argument("--json", action="store_true", help="a JSON array (stable keys)")

    details = cli.command(runner_commands, "details", "everything about one runner", runners.details_command)
    details.add_argument("runner_id", metavar="RUNNER_ID")
    details.add_argument("--json", action="store_true", help="a JSON object (stable keys)")

    terminate = cli.command(
        runner_commands,
        "terminate",
        "stop the task, deregister the runner, mark it OFFLINE",
        runners.terminate_command,
    )
    terminate.add_argument("runner_id", metavar="RUNNER_ID")
    terminate.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    statistics = cli.command(
        runner_commands,
        "stats",
        "jobs, queued → running latency, failures, runner minutes and estimated cost",
        stats.stats_command,
    )
    statistics.add_argument(
        "--since", type=_duration, metavar="DURATION", help="runners created within (default 7d)"
    )
    statistics.add_argument("--json", action="store_true", help="a JSON object (stable keys)")
    prices = statistics.add_argument_group("Fargate prices in USD (default: us-east-1 list prices)")
    for option, what in (
        ("--price-vcpu-hour", "per vCPU-hour, x86_64"),
        ("--price-gb-hour", "per GB-hour of memory, x86_64"),
        ("--price-arm-vcpu-hour", "per vCPU-hour, arm64"),
        ("--price-arm-gb-hour", "per GB-hour of memory, arm64"),
    ):
        prices.add_argument(option, type=_non_negative_float, metavar="USD", help=what)
    prices.add_argument(
        "--spot-discount", type=_fraction, metavar="FRACTION", help="Fargate Spot's discount, e.g. 0.7"
    )

    logs = cli.command(
        runner_commands, "logs", "print the runner task's log (CloudWatch)", runner_logs.logs_command
    )
    logs.add_argument("runner_id", metavar="RUNNER_ID")
    logs.add_argument("--since", type=_duration, metavar="DURATION", help="only events newer than, e.g. 10m")
    logs.add_argument("--limit", type=_positive_int, metavar="N", help="only the last N events")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing until the runner ends")
    logs.add_argument("--timestamps", action="store_true", help="prefix each line with its time (UTC)")
    logs.add_argument(
        "--poll-interval",
        type=_non_negative_float,
        default=2.0,
        metavar="SECONDS",
        help="--follow: default 2",
    )


def _pool_commands(cli: _Commands) -> None:
    pool_commands = cli.group("pools", "warm pools: idle runners kept ready per class and image")
    listing = cli.command(
        pool_commands, "list", "each pool's size now: target (schedule), live, idle", pools.list_command
    )
    listing.add_argument("--json", action="store_true", help="a JSON array (stable keys)")


def _class_and_image_commands(cli: _Commands) -> None:
    class_commands = cli.group("classes", "runner classes (class:<name> labels)")
    class_list = cli.command(class_commands, "list", "the class sizes parameter", classes.list_command)
    class_list.add_argument("--json", action="store_true")
    legacy = cli.command(cli.top, "list-class-sizes", "same as `classes list`", classes.list_command)
    legacy.add_argument("--json", action="store_true")

    image_commands = cli.group("images", "runner images built for image: labels")
    image_list = cli.command(image_commands, "list", "image records and tags in ECR", images.list_command)
    image_list.add_argument("--json", action="store_true")
    build = cli.command(
        image_commands, "build", "build a runner image ahead of time", image_build.build_command
    )
    build.add_argument("base_image", nargs="?", metavar="BASE_IMAGE", help="default: DEFAULT_BASE_IMAGE")
    build.add_argument("--arch", choices=("x86_64", "arm64"), default="x86_64")
    build.add_argument("--local", action="store_true", help="build and push with the local Docker engine")
    build.add_argument(
        "--wait", action=argparse.BooleanOptionalAction, default=True, help="follow the build to its end"
    )
    build.add_argument(
        "--poll-interval", type=_non_negative_float, default=10.0, metavar="SECONDS", help="default 10"
    )
    build.add_argument(
        "--timeout",
        type=_non_negative_float,
        metavar="SECONDS",
        help="default IMAGE_CREATING_TIMEOUT_SECONDS",
    )
    build.add_argument("--context", metavar="DIR", help="--local: the runner build context (default runner/)")


def _check_and_webhook_commands(cli: _Commands) -> None:
    check = cli.command(
        cli.top, "doctor", "check the deployment and say how to fix it", doctor.doctor_command
    )
    check.add_argument("--webhook-url", metavar="URL", help="default: the Terraform output webhook_url")

    hook_commands = cli.group("webhook", "webhook deliveries")
    send = cli.command(
        hook_commands, "send", "sign and POST a payload like GitHub does", webhook.send_command
    )
    send.add_argument("--url", required=True)
    secret = send.add_mutually_exclusive_group(required=True)
    secret.add_argument("--secret", help="the webhook secret (visible in shell history: prefer --secret-env)")
    secret.add_argument(
        "--secret-env", metavar="VAR", help="read the webhook secret from environment variable VAR"
    )
    send.add_argument("--payload", required=True, metavar="FILE", help="JSON body, sent byte for byte")
    send.add_argument("--event", default="workflow_job", help="X-GitHub-Event (default workflow_job)")
    send.add_argument("--timeout", type=_non_negative_float, default=30.0, metavar="SECONDS")
