"""``runners list | details | terminate``."""

from __future__ import annotations

from datetime import datetime

from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.usecases.errors import describe_error
from ecsrunner_core.usecases.operator import get_runner, list_runners, terminate_runner
from ecsrunner_core.views import iso, runner_view

from ..context import Context
from ..failures import CliError
from ..humanize import short_duration
from ..json_output import print_json, print_json_array
from ..tables import render_table
from .formatting import image_text, job_text, status_style

LIST_HEADERS = ("RUNNER", "STATUS", "CLASS", "IMAGE", "JOB", "AGE", "IN STATUS", "REASON")
# Terminating frees a slot and launches the next waiting runner, as the Lambdas do: that needs the
# whole launch configuration, not only the table.
TERMINATE_NEEDS = (
    "ECS_CLUSTER_ARN",
    "SUBNET_IDS",
    "SECURITY_GROUP_IDS",
    "BASE_TASK_DEFINITION_ARN",
    "ECR_REPOSITORY_URL",
    "JIT_BUCKET",
    "GITHUB_CREDENTIALS_SECRET_ARN",
)


def list_command(context: Context) -> int:
    args = context.args
    settings = context.read_only_settings("runners list", ("RUNNER_TABLE",))
    services = context.services(settings)
    now = services.clock.now()
    since = now - args.since if args.since else None
    records = list_runners(services.store, args.status, since, args.limit)
    if args.json:
        print_json_array(context.console, (runner_view(r) for r in records))
        return 0
    rows = [_row(record, now) for record in records]
    if not rows:
        context.console.note("no runners" + (" matching the filters" if args.status or since else ""))
        return 0
    console = context.console

    def paint(column: int, text: str) -> str:
        return console.paint(text, status_style(text)) if column == LIST_HEADERS.index("STATUS") else text

    for line in render_table(LIST_HEADERS, rows, width=console.width, paint=paint):
        console.line(line)
    return 0


def _row(record: RunnerRecord, now: datetime) -> tuple[str, ...]:
    return (
        record.runner_id,
        record.status.value,
        record.class_name or "-",
        image_text(record.image),
        job_text(record),
        short_duration(now - record.created_at),
        short_duration(now - record.status_since),
        record.status_reason,
    )


def details_command(context: Context) -> int:
    args = context.args
    settings = context.read_only_settings("runners details", ("RUNNER_TABLE",))
    services = context.services(settings)
    record = get_runner(services.store, args.runner_id)
    if args.json:
        print_json(context.console, runner_view(record))
        return 0
    console, now = context.console, services.clock.now()
    view = runner_view(record)
    fields = [
        ("runner", record.runner_id),
        ("status", console.paint(record.status.value, status_style(record.status.value))),
        ("reason", record.status_reason),
        ("in status", short_duration(now - record.status_since)),
        ("job", job_text(record)),
        ("workflow", " / ".join(x for x in (record.workflow_name, record.job_name) if x) or "-"),
        ("run", record.run_url or "-"),
        ("conclusion", record.conclusion or "-"),
        ("labels", ", ".join(record.labels) or "-"),
        ("class", record.class_name or "-"),
        ("image", record.image or "-"),
        ("image tag", record.image_tag or "-"),
        ("architecture", record.architecture or "-"),
        ("task", record.task_arn or "-"),
        ("github runner", str(record.github_runner_id) if record.github_runner_id is not None else "-"),
        ("attempts", str(record.attempts)),
        ("last error", record.last_error or "-"),
        ("created", f"{view['created_at']} ({short_duration(now - record.created_at)} ago)"),
        ("updated", f"{view['updated_at']} ({short_duration(now - record.updated_at)} ago)"),
    ]
    label_width = max(len(label) for label, _ in fields)
    for label, value in fields:
        console.line(f"{label.ljust(label_width)}  {value}")
    console.line()
    console.line("history:")
    history = [(iso(h.at) or "", h.status.value, h.reason) for h in record.history]

    def paint(column: int, text: str) -> str:
        return console.paint(text, status_style(text)) if column == 1 else text

    for line in render_table(("TIME", "STATUS", "REASON"), history, width=console.width, paint=paint):
        console.line(f"  {line}")
    return 0


def terminate_command(context: Context) -> int:
    args = context.args
    console = context.console
    settings = context.deployment_settings("runners terminate", TERMINATE_NEEDS)
    services = context.services(settings)
    record = get_runner(services.store, args.runner_id)
    if record.terminal:
        console.line(f"{record.runner_id} is already {record.status.value}: {record.status_reason}")
        return 0
    if not args.yes:
        answer = console.confirm(
            f"terminate {record.runner_id} ({record.status.value}, job {job_text(record)})?"
        )
        if answer is None:
            raise CliError("not a terminal: pass --yes to terminate without confirmation")
        if not answer:
            console.note("not terminated")
            return 1
    try:
        after, changed = terminate_runner(services.deps(), record.runner_id)
    except Exception as exc:
        latest = services.store.get(record.runner_id)
        if latest is None or not latest.terminal:
            raise
        raise CliError(
            f"{record.runner_id} is marked {latest.status.value}, but its cleanup failed "
            f"({describe_error(exc)}); the janitor stops its task if it still runs"
        ) from None
    if not changed:
        console.line(f"{after.runner_id} is already {after.status.value}: {after.status_reason}")
        return 0
    status = console.paint(after.status.value, status_style(after.status.value))
    console.line(f"terminated {after.runner_id}: {status} ({after.status_reason})")
    return 0
