"""`runners list` and `runners details` on records written by the core's store."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import boto3
import pytest
from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.settings import Settings
from ecsrunner_core.views import runner_view
from ecsrunner_core.wiring import Services
from ecsrunner_sandbox.provision import provision

from tests.cli.cli_records import REPOSITORY, create, runner
from tests.cli.conftest import shared_moto

REQUIRED_KEYS = {
    "runner_id",
    "runner_name",
    "status",
    "status_reason",
    "job_id",
    "run_job_id",
    "class",
    "image",
    "task_arn",
    "created_at",
    "updated_at",
    "history",
}
S = RunnerStatus


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def fleet_table() -> Iterator[str]:
    """Four runners, written once for the module (the tests only read)."""
    with shared_moto() as session:
        deployment = provision(session)
        create(Services(deployment.settings, session), *FLEET())
        yield deployment.settings.runner_table


@pytest.fixture
def fleet(fleet_table: str, configure) -> None:
    """Only RUNNER_TABLE is configured, as with the original tool."""
    configure(RUNNER_TABLE=fleet_table)


def FLEET() -> list[RunnerRecord]:
    return [
        runner("ecsr-running", job_id=101, age=timedelta(hours=3, minutes=30), task_arn="arn:aws:ecs:task/1"),
        runner(
            "ecsr-failed",
            job_id=102,
            age=timedelta(minutes=20, seconds=30),
            status=S.FAILED,
            reason="image build for docker.io/library/node:20 failed: build FAILED " + "x" * 150,
        ),
        runner("ecsr-waiting", job_id=103, age=timedelta(days=3, minutes=30), status=S.WAITING_FOR_JOB),
        runner(
            "ecsr-stolen", job_id=104, age=timedelta(days=1, minutes=30), status=S.OFFLINE, run_job_id=999
        ),
    ]


def test_table_is_newest_first_with_every_column(cli, fleet) -> None:
    result = cli("runners", "list")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["RUNNER", "STATUS", "CLASS", "IMAGE", "JOB", "AGE", "IN", "STATUS", "REASON"]
    assert [line.split()[0] for line in lines[1:]] == [
        "ecsr-failed",
        "ecsr-running",
        "ecsr-stolen",
        "ecsr-waiting",
    ]
    failed, running, stolen, waiting = lines[1:]
    assert failed.split()[1:6] == ["FAILED", "medium", "ubuntu:22.04", f"{REPOSITORY}#102", "20m30s"]
    assert failed.endswith("x" * 150)  # not a terminal: the reason in full
    assert running.split()[1:6] == ["RUNNING", "medium", "ubuntu:22.04", f"{REPOSITORY}#101", "3h30m"]
    assert running.split()[6] == "1h45m"  # in status since half-way through its life
    assert f"{REPOSITORY}#104 → #999" in stolen
    assert waiting.split()[5:7] == ["3d00h", "1d12h"]
    assert "\033[" not in result.out


def test_table_on_a_terminal_is_coloured_and_cut_to_the_width(cli, fleet, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdout", Terminal())
    monkeypatch.setenv("COLUMNS", "120")
    from ecsrunner.app import main

    assert main(["runners", "list"]) == 0
    out = __import__("sys").stdout.getvalue()
    assert "\033[31mFAILED\033[0m" in out and "\033[32mRUNNING\033[0m" in out
    failed = next(line for line in out.splitlines() if "ecsr-failed" in line)
    assert failed.endswith("…")
    assert len(failed.replace("\033[31m", "").replace("\033[0m", "")) == 120


def test_no_colour_when_no_color_is_set(cli, fleet, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdout", Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    from ecsrunner.app import main

    assert main(["runners", "list"]) == 0
    out = __import__("sys").stdout.getvalue()
    assert "ecsr-failed" in out and "\033[" not in out


def test_json_is_the_core_view_newest_first(cli, fleet, fleet_table) -> None:
    store = Services(
        Settings(name="x", runner_table=fleet_table, class_sizes_param="-"), boto3.Session()
    ).store
    result = cli("runners", "list", "--json")
    assert result.code == 0
    listed = json.loads(result.out)
    assert [r["runner_id"] for r in listed] == ["ecsr-failed", "ecsr-running", "ecsr-stolen", "ecsr-waiting"]
    for item in listed:
        assert item.keys() >= REQUIRED_KEYS
        assert item == runner_view(store.get(item["runner_id"]))
    stolen = listed[2]
    assert (stolen["job_id"], stolen["run_job_id"]) == (104, 999)
    assert datetime.fromisoformat(stolen["created_at"]).tzinfo is not None
    assert [h["status"] for h in stolen["history"]] == ["STARTING", "OFFLINE"]


def test_status_since_and_limit_filter(cli, fleet) -> None:
    def ids(*argv: str) -> list[str]:
        result = cli("runners", "list", "--json", *argv)
        assert result.code == 0, result.err
        return [r["runner_id"] for r in json.loads(result.out)]

    assert ids("--status", "running") == ["ecsr-running"]
    assert ids("--status", "FAILED", "OFFLINE") == ["ecsr-failed", "ecsr-stolen"]
    assert ids("--status", "FAILED", "--status", "WAITING_FOR_JOB") == ["ecsr-failed", "ecsr-waiting"]
    assert ids("--since", "4h") == ["ecsr-failed", "ecsr-running"]
    assert ids("--since", "2d", "--status", "OFFLINE", "RUNNING") == ["ecsr-running", "ecsr-stolen"]
    assert ids("--limit", "3") == ["ecsr-failed", "ecsr-running", "ecsr-stolen"]
    assert ids("--status", "STARTING") == []


def test_empty_results_say_so(cli, fleet) -> None:
    result = cli("runners", "list", "--status", "IMAGE_CREATING")
    assert (result.code, result.out, result.err) == (0, "", "no runners matching the filters\n")
    assert cli("runners", "list", "--status", "IMAGE_CREATING", "--json").out == "[]\n"


def test_details_table(cli, fleet) -> None:
    result = cli("runners", "details", "ecsr-stolen")
    assert result.code == 0
    fields = dict(
        line.split(None, 1)
        if not line.startswith(("in status", "image tag", "github runner", "last error"))
        else (line[:13].strip(), line[13:].strip())
        for line in result.out.split("\n\n")[0].splitlines()
    )
    assert fields["runner"] == "ecsr-stolen"
    assert fields["status"] == "OFFLINE"
    assert fields["job"] == f"{REPOSITORY}#104 → #999"
    assert fields["class"] == "medium"
    assert fields["image"] == "docker.io/library/ubuntu:22.04"
    history = result.out.split("history:\n")[1].splitlines()
    assert history[0].split() == ["TIME", "STATUS", "REASON"]
    assert [line.split()[1] for line in history[1:]] == ["STARTING", "OFFLINE"]


def test_details_json_is_the_core_view(cli, fleet, fleet_table) -> None:
    store = Services(
        Settings(name="x", runner_table=fleet_table, class_sizes_param="-"), boto3.Session()
    ).store
    result = cli("runners", "details", "ecsr-running", "--json")
    assert result.code == 0
    assert json.loads(result.out) == runner_view(store.get("ecsr-running"))


def test_details_of_an_unknown_runner_exits_1(cli, fleet) -> None:
    result = cli("runners", "details", "ecsr-nobody")
    assert (result.code, result.out, result.err) == (1, "", "error: no runner 'ecsr-nobody'\n")
