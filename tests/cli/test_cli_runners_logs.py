"""`runners logs RUNNER`: the task's CloudWatch log stream, named from the base task definition."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from ecsrunner_core.adapters.clock import SystemClock
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.records import to_status
from ecsrunner_core.wiring import Services
from ecsrunner_sandbox.provision import Deployment

from tests.cli.cli_records import create, runner

S = RunnerStatus
LOG_GROUP = "/ecsr/runner-tasks"
PREFIX = "jobs"  # not the module's "runner": the CLI must read it from the task definition
TASK_ID = "0f3c2a9b8d7e4f6a"
TASK_ARN = f"arn:aws:ecs:us-east-1:123456789012:task/ecsr-runners/{TASK_ID}"
STREAM = f"{PREFIX}/runner/{TASK_ID}"
NOW = datetime.now(UTC)
MAX_POLLS = 50


@pytest.fixture(autouse=True)
def bounded_polling(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """--follow polls without waiting, and a follow that never ends fails instead of hanging."""
    sleeps: list[float] = []

    def sleep(self: object, seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) > MAX_POLLS:
            raise AssertionError(f"--follow polled {MAX_POLLS} times without ending")

    monkeypatch.setattr(SystemClock, "sleep", sleep)
    return sleeps


def logging_definition(session: boto3.Session, deployment: Deployment, **log_configuration: Any) -> str:
    """A revision of the base task definition whose runner container logs with awslogs."""
    ecs = session.client("ecs")
    base = ecs.describe_task_definition(taskDefinition=deployment.settings.base_task_definition_arn)
    definition = base["taskDefinition"]
    configuration = log_configuration or {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": LOG_GROUP,
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": PREFIX,
        },
    }
    containers = [{**c, "logConfiguration": configuration} for c in definition["containerDefinitions"]]
    return ecs.register_task_definition(
        family=definition["family"],
        requiresCompatibilities=definition["requiresCompatibilities"],
        networkMode=definition["networkMode"],
        cpu=definition["cpu"],
        memory=definition["memory"],
        executionRoleArn=definition["executionRoleArn"],
        containerDefinitions=containers,
    )["taskDefinition"]["taskDefinitionArn"]


def put_events(session: boto3.Session, *events: tuple[datetime, str], stream: str = STREAM) -> None:
    logs = session.client("logs")
    if not logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=stream)["logStreams"]:
        logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    logs.put_log_events(
        logGroupName=LOG_GROUP,
        logStreamName=stream,
        logEvents=[{"timestamp": int(at.timestamp() * 1000), "message": text} for at, text in events],
    )


@pytest.fixture
def logged(session: boto3.Session, deployment: Deployment, services: Services, configure) -> Services:
    """The deployment with a runner log group and a base task definition that logs to it."""
    session.client("logs").create_log_group(logGroupName=LOG_GROUP)
    definition = logging_definition(session, deployment)
    configure(
        RUNNER_TABLE=deployment.settings.runner_table,
        BASE_TASK_DEFINITION_ARN=definition,
        RUNNER_LOG_GROUP=LOG_GROUP,
    )
    create(services, runner("ecsr-live", job_id=1, age=timedelta(minutes=30), task_arn=TASK_ARN))
    return services


LINES = [
    (NOW - timedelta(minutes=20), "√ Connected to GitHub"),
    (NOW - timedelta(minutes=19), "Current runner version: '2.337.0'"),
    (NOW - timedelta(minutes=2), "Running job: build (1)"),
    (NOW - timedelta(minutes=1), "Job build (1) completed with result: Succeeded"),
]


def test_prints_the_stream_in_order(cli, session, logged, aws_calls) -> None:
    put_events(session, *LINES)
    result = cli("runners", "logs", "ecsr-live")
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == [text for _, text in LINES]
    assert "ecs.DescribeTaskDefinition" in aws_calls and "logs.GetLogEvents" in aws_calls
    assert not [call for call in aws_calls if call.endswith(("Scan", "FilterLogEvents"))]


def test_timestamps_limit_and_since(cli, session, logged) -> None:
    put_events(session, *LINES)
    stamped = cli("runners", "logs", "ecsr-live", "--timestamps", "--limit", "1")
    assert stamped.code == 0
    stamp = LINES[-1][0].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert stamped.out == f"{stamp} Job build (1) completed with result: Succeeded\n"
    recent = cli("runners", "--region", "us-east-1", "logs", "--since", "10m", "ecsr-live")
    assert recent.out.splitlines() == [
        "Running job: build (1)",
        "Job build (1) completed with result: Succeeded",
    ]
    last_two_of_old = cli("runners", "logs", "ecsr-live", "--limit", "2", "--since", "1h")
    assert last_two_of_old.out.splitlines() == [text for _, text in LINES[-2:]]


def test_long_logs_are_read_page_by_page(cli, session, logged, aws_calls) -> None:
    events = [(NOW - timedelta(seconds=12_000 - i), f"line {i}") for i in range(12_000)]
    put_events(session, *events[:6000])
    put_events(session, *events[6000:])
    result = cli("runners", "logs", "ecsr-live")
    assert result.code == 0
    assert result.out.splitlines() == [text for _, text in events]
    assert aws_calls.count("logs.GetLogEvents") == 3  # 10,000 + 2,000 + the page that says "no more"


def test_unknown_runner_is_one_line(cli, logged) -> None:
    result = cli("runners", "logs", "ecsr-nobody")
    assert (result.code, result.out, result.err) == (1, "", "error: no runner 'ecsr-nobody'\n")


def test_a_runner_without_a_task_yet(cli, services, logged) -> None:
    reason = "waiting for the runner image build of docker.io/library/node:20"
    create(
        services,
        runner("ecsr-waiting", job_id=2, age=timedelta(minutes=1), status=S.IMAGE_CREATING, reason=reason),
    )
    result = cli("runners", "logs", "ecsr-waiting")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "error: ecsr-waiting has no task yet (IMAGE_CREATING: waiting for the runner image build of "
        "docker.io/library/node:20); pass --follow to wait for it\n"
    )


def test_a_runner_that_never_had_a_task(cli, services, logged) -> None:
    refused = "unknown class 'xl' (label 'class:xl'); defined classes: large, medium, small"
    create(
        services, runner("ecsr-refused", job_id=3, age=timedelta(minutes=1), status=S.FAILED, reason=refused)
    )
    result = cli("runners", "logs", "ecsr-refused")
    assert (result.code, result.err) == (
        1,
        f"error: ecsr-refused never had a task (FAILED: {refused}), so there is no log\n",
    )


def test_a_task_that_has_not_logged_yet(cli, logged) -> None:
    result = cli("runners", "logs", "ecsr-live")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: no log stream {STREAM} in log group {LOG_GROUP}: the task has not written anything yet; "
        "pass --follow to wait\n"
    )


def test_follow_prints_new_lines_until_the_runner_ends(
    cli, session, logged, session_hooks, bounded_polling
) -> None:
    put_events(session, *LINES[:2])
    reads = itertools.count(1)

    def job_runs_then_ends(**_: Any) -> None:
        read = next(reads)
        if read == 2:  # the first read caught up: the job starts and ends meanwhile
            put_events(session, *LINES[2:])
        if read == 3:
            logged.store.update("ecsr-live", to_status(S.OFFLINE, "job 1 completed (success)", NOW))

    session_hooks.append(("after-call.logs.GetLogEvents", job_runs_then_ends))
    result = cli("runners", "logs", "ecsr-live", "--follow", "--poll-interval", "0.5")
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == [text for _, text in LINES]
    assert bounded_polling == [0.5]  # one wait, after the first read caught up


def test_follow_waits_for_the_task_and_its_stream(cli, session, services, logged, session_hooks) -> None:
    create(services, runner("ecsr-new", job_id=4, age=timedelta(seconds=5), status=S.STARTING))
    task_arn = TASK_ARN.replace(TASK_ID, "a1b2c3")
    stream = f"{PREFIX}/runner/a1b2c3"
    reads = itertools.count(1)

    def task_starts_logs_and_stops(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key", {}).get("pk", {}).get("S") != "RUNNER#ecsr-new":
            return
        read = next(reads)
        if read == 2:
            services.store.update("ecsr-new", lambda r: r.touch(NOW, task_arn=task_arn))
        if read == 4:
            put_events(session, (NOW, "√ Connected to GitHub"), stream=stream)
            services.store.update(
                "ecsr-new", to_status(S.FAILED, "task stopped: Essential container exited", NOW)
            )

    session_hooks.append(("before-parameter-build.dynamodb.GetItem", task_starts_logs_and_stops))
    result = cli("runners", "logs", "ecsr-new", "-f", "--poll-interval", "0")
    assert result.code == 0, result.err
    assert result.out == "√ Connected to GitHub\n"
    assert result.err == (
        "waiting for a task of ecsr-new (STARTING: job 4 queued)\n"
        f"waiting for the log stream {stream} in {LOG_GROUP}\n"
    )


def test_the_stream_prefix_comes_from_the_task_definition(
    cli, session, deployment, logged, configure
) -> None:
    other = logging_definition(
        session,
        deployment,
        logDriver="awslogs",
        options={"awslogs-group": LOG_GROUP, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "other"},
    )
    configure(BASE_TASK_DEFINITION_ARN=other, RUNNER_LOG_GROUP="")
    put_events(session, (NOW, "from the other prefix"), stream=f"other/runner/{TASK_ID}")
    result = cli("runners", "logs", "ecsr-live")
    assert (result.code, result.out) == (0, "from the other prefix\n")  # and the group from awslogs-group


def test_a_definition_without_awslogs_is_one_line(cli, session, deployment, logged, configure) -> None:
    configure(BASE_TASK_DEFINITION_ARN=deployment.settings.base_task_definition_arn)
    result = cli("runners", "logs", "ecsr-live")
    assert result.code == 1
    assert result.err == (
        f"error: base task definition {deployment.settings.base_task_definition_arn}: container 'runner' "
        "does not log to CloudWatch Logs (logDriver awslogs with an awslogs-stream-prefix)\n"
    )


def test_logs_need_the_table_and_the_base_task_definition(cli, configure) -> None:
    configure(RUNNER_TABLE="t")
    result = cli("runners", "logs", "r")
    assert result.err == (
        "error: runners logs needs BASE_TASK_DEFINITION_ARN: set it in the environment or pass "
        "--terraform-dir DIR\n"
    )
