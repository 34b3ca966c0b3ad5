"""`python -m ecsrunner` as a subprocess against a moto server, reached through AWS_ENDPOINT_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.wiring import Services
from ecsrunner_sandbox.moto_server import MotoServer, moto_server
from ecsrunner_sandbox.provision import Deployment, provision

from tests.cli.cli_records import REPOSITORY, create, runner

pytestmark = pytest.mark.e2e
TIMEOUT_SECONDS = 120


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    with moto_server() as running:
        yield running


@pytest.fixture(scope="module")
def deployment(server: MotoServer) -> Deployment:
    session = boto3.Session(
        region_name=server.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
        deployment = provision(session)
        create(
            Services(deployment.settings, session),
            runner(
                "ecsr-sub-running",
                job_id=11,
                age=timedelta(hours=2, minutes=30),
                task_arn="arn:aws:ecs:us-east-1:123456789012:task/ecsr-runners/5ub7a5k",
            ),
            runner(
                "ecsr-sub-failed",
                job_id=12,
                age=timedelta(minutes=10, seconds=30),
                status=RunnerStatus.FAILED,
                reason="task stopped: CannotPullContainerError",
            ),
        )
    return deployment


def run_cli(
    server: MotoServer,
    deployment: Deployment,
    *argv: str,
    unset: tuple[str, ...] = (),
    extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "RUNNER_", "CLASS_SIZES", "GITHUB_", "ECSRUNNER_"))
    }
    env.update(server.client_environment())  # AWS_ENDPOINT_URL, dummy credentials, region
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)  # no profile region
    env.update(
        RUNNER_TABLE=deployment.settings.runner_table, CLASS_SIZES_PARAM=deployment.settings.class_sizes_param
    )
    env.pop("NO_COLOR", None)
    for name in unset:
        env.pop(name, None)
    env.update(extra or {})
    return subprocess.run(
        [sys.executable, "-m", "ecsrunner", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def test_runners_list_json(server, deployment) -> None:
    done = run_cli(server, deployment, "runners", "list", "--json")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [r["runner_id"] for r in listed] == ["ecsr-sub-failed", "ecsr-sub-running"]
    assert listed[0]["status"] == "FAILED"
    assert listed[0]["status_reason"] == "task stopped: CannotPullContainerError"
    assert (listed[1]["job_id"], listed[1]["class"], listed[1]["status"]) == (11, "medium", "RUNNING")
    assert done.stderr == ""


def test_runners_list_table(server, deployment) -> None:
    done = run_cli(server, deployment, "runners", "list")
    assert done.returncode == 0, done.stderr
    header, failed, running = done.stdout.splitlines()
    assert header.split()[:3] == ["RUNNER", "STATUS", "CLASS"]
    assert failed.split()[:5] == ["ecsr-sub-failed", "FAILED", "medium", "ubuntu:22.04", f"{REPOSITORY}#12"]
    assert failed.endswith("task stopped: CannotPullContainerError")
    assert running.split()[:2] == ["ecsr-sub-running", "RUNNING"]
    assert "\033[" not in done.stdout  # a pipe, not a terminal


NO_REGION = ("AWS_REGION", "AWS_DEFAULT_REGION")


@pytest.mark.parametrize(
    "argv",
    [
        ["--region", "us-east-1", "runners", "list", "--json"],
        ["runners", "list", "--json", "--region", "us-east-1"],
    ],
    ids=["before", "after"],
)
def test_region_option_before_or_after_the_command(server, deployment, argv) -> None:
    done = run_cli(server, deployment, *argv, unset=NO_REGION)
    assert done.returncode == 0, done.stderr
    assert [r["runner_id"] for r in json.loads(done.stdout)] == ["ecsr-sub-failed", "ecsr-sub-running"]


def test_aws_region_alone_is_honoured(server, deployment) -> None:
    done = run_cli(server, deployment, "runners", "list", "--json", unset=("AWS_DEFAULT_REGION",))
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 2


def test_runners_stats_json(server, deployment) -> None:
    done = run_cli(server, deployment, "--region", "us-east-1", "runners", "stats", "--since", "1d", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert (document["jobs"], document["runners"]) == (2, 2)
    assert document["failures"] == {"total": 1, "by_kind": {"task": 1}}
    assert [line["repository"] for line in document["by_repository"]] == [REPOSITORY]


def test_runners_logs(server, deployment) -> None:
    session = boto3.Session(region_name=server.region, aws_access_key_id="test", aws_secret_access_key="test")
    logs = session.client("logs", endpoint_url=server.endpoint_url)
    ecs = session.client("ecs", endpoint_url=server.endpoint_url)
    logs.create_log_group(logGroupName="/ecsr/sub-runners")
    logs.create_log_stream(logGroupName="/ecsr/sub-runners", logStreamName="runner/runner/5ub7a5k")
    logs.put_log_events(
        logGroupName="/ecsr/sub-runners",
        logStreamName="runner/runner/5ub7a5k",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "√ Connected to GitHub"}],
    )
    container = {"name": "runner", "image": "x", "essential": True, "memoryReservation": 512}
    container["logConfiguration"] = {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": "/ecsr/sub-runners",
            "awslogs-region": server.region,
            "awslogs-stream-prefix": "runner",
        },
    }
    definition = ecs.register_task_definition(family="ecsr-sub-logs", containerDefinitions=[container])
    arn = definition["taskDefinition"]["taskDefinitionArn"]
    env = {"BASE_TASK_DEFINITION_ARN": arn}
    done = run_cli(server, deployment, "runners", "logs", "ecsr-sub-running", extra=env)
    assert (done.returncode, done.stdout, done.stderr) == (0, "√ Connected to GitHub\n", "")
    missing = run_cli(server, deployment, "runners", "logs", "ecsr-sub-failed", extra=env)
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: ecsr-sub-failed never had a task (FAILED: task stopped")


def test_classes_and_errors_as_a_subprocess(server, deployment) -> None:
    classes = run_cli(server, deployment, "classes", "list", "--json")
    assert classes.returncode == 0
    assert json.loads(classes.stdout)["default"] == "medium"
    unknown = run_cli(server, deployment, "runners", "details", "ecsr-nobody")
    assert (unknown.returncode, unknown.stdout, unknown.stderr) == (1, "", "error: no runner 'ecsr-nobody'\n")
    usage = run_cli(server, deployment, "runners", "list", "--limit", "zero")
    assert usage.returncode == 2
    assert "Traceback" not in unknown.stderr + usage.stderr


def test_a_closed_pipe_ends_quietly(server, deployment) -> None:
    """`python -m ecsrunner runners list | head -0`: the reader is gone before anything is written."""
    env = {**os.environ, **server.client_environment(), "RUNNER_TABLE": deployment.settings.runner_table}
    process = subprocess.Popen(
        [sys.executable, "-m", "ecsrunner", "runners", "list", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=TIMEOUT_SECONDS) == 1
    assert stderr == ""
