"""``runners logs RUNNER``: the runner task's CloudWatch log, as ``kubectl logs`` prints a pod's.

``--follow`` keeps reading (GetLogEvents with the forward token, every ``--poll-interval`` seconds)
until the runner's record is OFFLINE or FAILED, then reads once more and stops; it waits for a task
that has not started yet.
"""

from __future__ import annotations

from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.usecases.operator import get_runner
from ecsrunner_core.wiring import Services

from ..console import Console
from ..context import Context
from ..failures import CliError
from ..log_stream import LogEvent, LogStream, read_page, runner_log_stream

LOGS_NEEDS = ("RUNNER_TABLE", "BASE_TASK_DEFINITION_ARN")


def logs_command(context: Context) -> int:
    args = context.args
    settings = context.read_only_settings("runners logs", LOGS_NEEDS)
    services = context.services(settings)
    console = context.console
    record = get_runner(services.store, args.runner_id)
    if record.task_arn is None:
        record = _wait_for_task(services, console, record, args.poll_interval) if args.follow else record
    if record.task_arn is None:
        raise CliError(_no_task(record))
    stream = runner_log_stream(services.client("ecs"), settings, record.task_arn)
    logs = services.client("logs")
    start = services.clock.now() - args.since if args.since else None
    token: str | None = None
    waiting_noted = draining = False
    while True:
        page = read_page(logs, stream, token=token, start=start, last=args.limit if token is None else None)
        if page is None:
            if not args.follow or draining:
                raise CliError(_no_stream(stream, record))
            if not waiting_noted:
                console.note(f"waiting for the log stream {stream.name} in {stream.group}")
                waiting_noted = True
        else:
            for event in page.events:
                console.line(_line(event, args.timestamps))
            caught_up = (
                page.token is None or page.token == token or (token is None and args.limit is not None)
            )
            token = page.token or token
            if not caught_up:
                continue
            if not args.follow or draining:
                return 0
        record = get_runner(services.store, record.runner_id)
        if record.terminal:
            draining = True  # the task has stopped: what it wrote is in the stream; read it once more
        else:
            services.clock.sleep(args.poll_interval)


def _wait_for_task(
    services: Services, console: Console, record: RunnerRecord, interval: float
) -> RunnerRecord:
    console.note(f"waiting for a task of {record.runner_id} ({record.status.value}: {record.status_reason})")
    while record.task_arn is None and not record.terminal:
        services.clock.sleep(interval)
        record = get_runner(services.store, record.runner_id)
    return record


def _no_task(record: RunnerRecord) -> str:
    state = f"{record.status.value}: {record.status_reason}"
    if record.terminal:
        return f"{record.runner_id} never had a task ({state}), so there is no log"
    return f"{record.runner_id} has no task yet ({state}); pass --follow to wait for it"


def _no_stream(stream: LogStream, record: RunnerRecord) -> str:
    why = (
        "the task wrote nothing, or the log expired (log_retention_days)"
        if record.terminal
        else "the task has not written anything yet; pass --follow to wait"
    )
    return f"no log stream {stream.name} in log group {stream.group}: {why}"


def _line(event: LogEvent, timestamps: bool) -> str:
    if not timestamps:
        return event.message
    stamp = event.at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return f"{stamp} {event.message}"
