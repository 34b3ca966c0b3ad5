"""`runners stats`: read through the status index (never a Scan), priced with the class sizes parameter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from ecsrunner_core.domain.runner import HistoryEntry, RunnerRecord, new_runner_record
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.wiring import Services
from ecsrunner_sandbox.provision import provision

from tests.cli.conftest import shared_moto

S = RunnerStatus
NOW = datetime.now(UTC)
MEDIUM_PER_MINUTE = (1 * 0.04048 + 4 * 0.004445) / 60
LARGE_PER_MINUTE = (4 * 0.04048 + 16 * 0.004445) / 60


def runner(
    name: str,
    created_ago: timedelta,
    steps: list[tuple[RunnerStatus, int, str]],
    *,
    job_id: int,
    class_name: str | None = "medium",
    repository: str = "octo-org/app",
) -> RunnerRecord:
    """Created ``created_ago`` before the test; ``steps`` = (status, seconds after creation, reason)."""
    created = NOW - created_ago
    record = new_runner_record(
        runner_name=name,
        job_id=job_id,
        repository=repository,
        labels=("self-hosted",),
        at=created,
        reason=f"job {job_id} queued",
        class_name=class_name,
    )
    history = [*record.history, *(HistoryEntry(s, created + timedelta(seconds=t), r) for s, t, r in steps)]
    return replace(
        record,
        status=history[-1].status,
        status_reason=history[-1].reason,
        history=tuple(history),
        updated_at=history[-1].at,
    )


def ran(seconds_to_job: int, minutes: int) -> list[tuple[RunnerStatus, int, str]]:
    """Task RUNNING after 10 s, the job after ``seconds_to_job``, OFFLINE ``minutes`` after the task ran."""
    return [
        (S.WAITING_FOR_JOB, 10, "task RUNNING"),
        (S.RUNNING, seconds_to_job, "job started"),
        (S.OFFLINE, 10 + minutes * 60, "job completed (success)"),
    ]


REFUSED = "unknown class 'xl' (label 'class:xl')"
OOM = "task stopped: OutOfMemoryError"
FLEET = [
    runner("ecsr-a", timedelta(hours=5), ran(40, 10), job_id=1),
    runner("ecsr-b", timedelta(hours=4), ran(100, 20), job_id=2, class_name="large"),
    runner("ecsr-c", timedelta(hours=3), ran(70, 6), job_id=3, repository="octo-org/lib"),
    runner("ecsr-d", timedelta(days=2), [(S.FAILED, 1, REFUSED)], job_id=4, class_name=None),
    runner(
        "ecsr-e", timedelta(days=3), [(S.WAITING_FOR_JOB, 10, "task RUNNING"), (S.FAILED, 130, OOM)], job_id=5
    ),
    runner("ecsr-old", timedelta(days=8), ran(30, 60), job_id=6),
]


@pytest.fixture(scope="module")
def fleet_deployment() -> Iterator[tuple[str, str]]:
    with shared_moto() as session:
        deployment = provision(session)
        services = Services(deployment.settings, session)
        for record in FLEET:
            assert services.store.create(record)
        yield deployment.settings.runner_table, deployment.settings.class_sizes_param


@pytest.fixture
def fleet(fleet_deployment: tuple[str, str], configure) -> None:
    table, parameter = fleet_deployment
    configure(RUNNER_TABLE=table, CLASS_SIZES_PARAM=parameter)


def stats_json(cli, *argv: str) -> dict:
    result = cli("runners", "stats", "--json", *argv)
    assert result.code == 0, result.err
    assert result.err == ""
    return json.loads(result.out)


def test_stats_of_the_last_seven_days_by_default(cli, fleet) -> None:
    document = stats_json(cli)
    assert (document["jobs"], document["runners"]) == (5, 5)  # ecsr-old is 8 days old
    assert document["by_status"]["OFFLINE"] == 3 and document["by_status"]["FAILED"] == 2
    assert document["queued_to_running_seconds"] == {"count": 3, "p50": 70.0, "p90": 100.0}
    assert document["failures"] == {"total": 2, "by_kind": {"labels": 1, "task": 1}}
    assert document["runner_minutes"] == 10 + 20 + 6 + 2
    expected = 10 * MEDIUM_PER_MINUTE + 20 * LARGE_PER_MINUTE + 6 * MEDIUM_PER_MINUTE + 2 * MEDIUM_PER_MINUTE
    assert document["estimated_cost_usd"] == pytest.approx(expected, abs=1e-4)
    assert [
        (line["repository"], line["runners"], line["runner_minutes"]) for line in document["by_repository"]
    ] == [
        ("octo-org/app", 3, 32.0),
        ("octo-org/lib", 1, 6.0),
    ]
    large, medium = document["by_class"]
    assert (large["class"], large["cpu"], large["memory"], large["runner_minutes"]) == (
        "large",
        4096,
        16384,
        20.0,
    )
    assert (medium["class"], medium["runners"], medium["runner_minutes"]) == ("medium", 3, 18.0)
    assert document["prices"]["vcpu_hour"] == 0.04048
    assert NOW - timedelta(days=7, minutes=5) < _time(document["since"]) < NOW - timedelta(days=6, hours=23)


def test_since_narrows_the_window(cli, fleet) -> None:
    document = stats_json(cli, "--since", "1d")
    assert [line["runners"] for line in document["by_repository"]] == [2, 1]
    assert document["failures"]["total"] == 0
    everything = stats_json(cli, "--since", "30d")
    assert everything["jobs"] == 6


def test_price_overrides(cli, fleet) -> None:
    document = stats_json(cli, "--price-vcpu-hour", "0.1", "--price-gb-hour", "0", "--since", "1d")
    # 10 + 6 minutes of 1 vCPU and 20 of 4 vCPU at $0.10 per vCPU-hour
    assert document["estimated_cost_usd"] == pytest.approx((16 * 1 + 20 * 4) * 0.1 / 60, abs=1e-4)
    assert (document["prices"]["vcpu_hour"], document["prices"]["gb_hour"]) == (0.1, 0)


def test_stats_read_the_status_index_only(cli, fleet, aws_calls) -> None:
    assert cli("runners", "stats").code == 0
    assert set(aws_calls) == {"ssm.GetParameter", "dynamodb.Query"}
    assert aws_calls.count("dynamodb.Query") == len(RunnerStatus)  # one per status: every page was one


def test_the_table(cli, fleet) -> None:
    result = cli("runners", "stats", "--since", "7d")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("runners created since ") and lines[0].endswith(" (the last 7d)")
    assert lines[1] == "jobs              5 (5 runners: 3 OFFLINE, 2 FAILED)"
    assert lines[2] == "queued → running  p50 1m10s, p90 1m40s (3 runners ran their job)"
    assert lines[3] == "failures          2: labels 1, task 1"
    assert lines[4].startswith("runner minutes    38.0, estimated $0.0")
    assert lines[6].split() == ["REPOSITORY", "RUNNERS", "MINUTES", "EST.", "COST"]
    assert lines[7].split()[:3] == ["octo-org/app", "3", "32.0"]
    assert lines[10].split() == ["CLASS", "SIZE", "RUNNERS", "MINUTES", "EST.", "COST"]
    assert lines[11].split()[:7] == ["large", "4", "vCPU", "/", "16", "GiB,", "x86_64"]
    assert lines[11].endswith(f"${20 * LARGE_PER_MINUTE:.4f}")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "soon"], "invalid duration 'soon'"),
        (["--spot-discount", "1.5"], "must be between 0 and 1"),
        (["--price-gb-hour", "-1"], "must not be negative"),
    ],
)
def test_bad_options_are_usage_errors(cli, clean_env, argv, message) -> None:
    result = cli("runners", "stats", *argv)
    assert result.code == 2
    assert message in result.err


def test_stats_need_the_table_and_the_class_sizes(cli, configure) -> None:
    configure(RUNNER_TABLE="t")
    result = cli("runners", "stats")
    assert (result.code, result.err) == (
        1,
        "error: runners stats needs CLASS_SIZES_PARAM: set it in the environment or pass "
        "--terraform-dir DIR\n",
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
