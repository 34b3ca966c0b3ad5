"""`runners list` on a big table: the status index page by page, never a Scan, never the whole table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.wiring import Services
from ecsrunner_sandbox.provision import provision

from tests.cli.cli_records import bulk_write, runner
from tests.cli.conftest import shared_moto

RUNNERS = 2500
PAGE = 100  # the store's page size


@pytest.fixture(scope="module")
def big_table() -> Iterator[list[RunnerRecord]]:
    """2,500 runners across every status, written once for the module (moto is slow to fill)."""
    with shared_moto() as session, pytest.MonkeyPatch.context() as env:
        deployment = provision(session)
        now = datetime.now(UTC)
        statuses = list(RunnerStatus)
        records = [
            runner(f"ecsr-{n:05d}", job_id=n, age=timedelta(minutes=n + 1), status=statuses[n % 6], now=now)
            for n in range(RUNNERS)
        ]
        bulk_write(Services(deployment.settings, session), records)
        env.setenv("RUNNER_TABLE", deployment.settings.runner_table)
        yield records


def test_status_filter_queries_the_index_and_never_scans(cli, big_table, aws_calls) -> None:
    result = cli("runners", "list", "--status", "RUNNING", "--json")
    assert result.code == 0, result.err
    running = [r.runner_name for r in big_table if r.status is RunnerStatus.RUNNING]  # newest first
    assert [r["runner_id"] for r in json.loads(result.out)] == running
    assert set(aws_calls) == {"dynamodb.Query"}
    assert len(aws_calls) == -(-len(running) // PAGE)  # every page, one Query each


def test_limit_stops_after_the_first_page_of_each_status(cli, big_table, aws_calls) -> None:
    result = cli("runners", "list", "--limit", "5", "--json")
    assert result.code == 0, result.err
    assert [r["runner_id"] for r in json.loads(result.out)] == [f"ecsr-{n:05d}" for n in range(5)]
    # Merging needs the head of every status partition: one page each, of the 25+ pages there are.
    assert aws_calls == ["dynamodb.Query"] * len(RunnerStatus)


def test_limit_with_a_status_reads_one_page(cli, big_table, aws_calls) -> None:
    result = cli("runners", "list", "--status", "FAILED", "--limit", "3")
    assert result.code == 0, result.err
    assert [line.split()[0] for line in result.out.splitlines()[1:]] == [
        "ecsr-00005",
        "ecsr-00011",
        "ecsr-00017",
    ]
    assert aws_calls == ["dynamodb.Query"]
