"""ecsrunner_core.usecases.stats: latency percentiles, failure kinds, runner minutes and their cost."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from ecsrunner_core.domain.classes import DEFAULT_CLASS_SIZES, Architecture, ClassSize
from ecsrunner_core.domain.runner import HistoryEntry, RunnerRecord, new_runner_record
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.stats import (
    DEFAULT_PRICES,
    FargatePrices,
    fleet_stats,
    percentile,
    runner_minutes,
    start_latency_seconds,
)
from hypothesis import given
from hypothesis import strategies as st

from bench import prices as bench_prices

S = RunnerStatus
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=6)
SIZES = DEFAULT_CLASS_SIZES.classes
MEDIUM_PER_MINUTE = (1 * 0.04048 + 4 * 0.004445) / 60


def record(
    name: str,
    steps: list[tuple[RunnerStatus, float, str]],
    *,
    job_id: int = 1,
    class_name: str | None = "medium",
    repository: str = "octo-org/app",
    **fields: object,
) -> RunnerRecord:
    """A runner created at T0 that went through ``steps`` = (status, seconds after T0, reason)."""
    base = new_runner_record(
        runner_name=name,
        job_id=job_id,
        repository=repository,
        labels=("self-hosted",),
        at=T0,
        reason=f"job {job_id} queued",
        class_name=class_name,
    )
    history = [*base.history, *(HistoryEntry(s, T0 + timedelta(seconds=t), r) for s, t, r in steps)]
    last = history[-1]
    return replace(
        base,
        status=last.status,
        status_reason=last.reason,
        history=tuple(history),
        updated_at=last.at,
        **fields,  # type: ignore[arg-type]
    )


def finished(name: str, *, running_at: float = 30, ended_at: float = 630, **fields: object) -> RunnerRecord:
    """WAITING_FOR_JOB at 20 s, RUNNING at ``running_at``, OFFLINE at ``ended_at``."""
    return record(
        name,
        [
            (S.WAITING_FOR_JOB, 20, "task RUNNING"),
            (S.RUNNING, running_at, "job started"),
            (S.OFFLINE, ended_at, "job completed"),
        ],
        **fields,
    )


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(10, 0, -1)]
    assert percentile(values, 0.5) == 5.0
    assert percentile(values, 0.9) == 9.0
    assert percentile(values, 1.0) == 10.0
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([], 0.5) is None


def test_start_latency_is_created_to_the_first_running_entry() -> None:
    assert start_latency_seconds(finished("r", running_at=42)) == 42.0
    never_ran = record("r", [(S.WAITING_FOR_JOB, 20, "task RUNNING"), (S.OFFLINE, 300, "surplus")])
    assert start_latency_seconds(never_ran) is None


def test_runner_minutes_run_from_the_task_running_to_the_terminal_entry() -> None:
    assert runner_minutes(finished("r", ended_at=620), NOW) == pytest.approx(10.0)
    # The job may start before the ECS event: RUNNING is then the first running entry.
    direct = record("r", [(S.RUNNING, 60, "job started"), (S.FAILED, 180, "TTL exceeded")])
    assert runner_minutes(direct, NOW) == pytest.approx(2.0)
    refused = record("r", [(S.FAILED, 0, "unknown class 'xl' (label 'class:xl')")], class_name=None)
    assert runner_minutes(refused, NOW) is None


def test_an_active_runner_counts_until_now() -> None:
    active = record("r", [(S.WAITING_FOR_JOB, 60, "task RUNNING"), (S.RUNNING, 120, "job started")])
    assert runner_minutes(active, T0 + timedelta(minutes=31)) == pytest.approx(30.0)


def test_cost_of_each_class_kind() -> None:
    prices = DEFAULT_PRICES
    assert prices.per_minute(SIZES["medium"]) == pytest.approx(MEDIUM_PER_MINUTE)
    spot = ClassSize("spot", 1024, 4096, spot=True)
    assert prices.per_minute(spot) == pytest.approx(MEDIUM_PER_MINUTE * 0.3)
    arm = ClassSize("arm", 1024, 4096, architecture=Architecture.ARM64)
    assert prices.per_minute(arm) == pytest.approx((0.03238 + 4 * 0.00356) / 60)
    disk = ClassSize("disk", 1024, 4096, ephemeral_storage_gib=100)
    assert prices.per_minute(disk) == pytest.approx(MEDIUM_PER_MINUTE + 80 * 0.000111 / 60)
    custom = FargatePrices(vcpu_hour=0.06, gb_hour=0.006)
    assert custom.per_minute(SIZES["medium"]) == pytest.approx((0.06 + 4 * 0.006) / 60)


def test_fleet_stats_counts_prices_and_groups() -> None:
    records = [
        finished("a", running_at=30, ended_at=630, job_id=1),  # 10.17 min from WAITING_FOR_JOB
        finished("b", running_at=90, ended_at=20 + 1200, job_id=2, class_name="large"),  # 20 min
        finished("c", running_at=25, ended_at=50, job_id=3, repository="octo-org/lib"),  # half a minute
        # The replacement of runner "a": same job, never ran one.
        record("a2", [(S.WAITING_FOR_JOB, 20, "task RUNNING"), (S.OFFLINE, 80, "surplus")], job_id=1),
        record("f1", [(S.FAILED, 1, "unknown class 'xl' (label 'class:xl')")], job_id=4, class_name=None),
        record(
            "f2", [(S.WAITING_FOR_JOB, 20, "task RUNNING"), (S.FAILED, 200, "task stopped: OOM")], job_id=5
        ),
    ]
    stats = fleet_stats(records, sizes=SIZES, since=T0 - timedelta(days=7), now=NOW)
    document = stats.to_json()

    assert (document["jobs"], document["runners"]) == (5, 6)
    assert document["by_status"] == {
        "STARTING": 0,
        "IMAGE_CREATING": 0,
        "WAITING_FOR_JOB": 0,
        "RUNNING": 0,
        "OFFLINE": 4,
        "FAILED": 2,
    }
    assert document["queued_to_running_seconds"] == {"count": 3, "p50": 30.0, "p90": 90.0}
    assert document["failures"] == {"total": 2, "by_kind": {"labels": 1, "task": 1}}
    minutes = {"a": 610 / 60, "b": 20.0, "c": 30 / 60, "a2": 1.0, "f2": 3.0}
    assert document["runner_minutes"] == round(sum(minutes.values()), 2)
    large_per_minute = (4 * 0.04048 + 16 * 0.004445) / 60
    expected_cost = (
        minutes["a"] * MEDIUM_PER_MINUTE
        + 20 * large_per_minute
        + 1 * MEDIUM_PER_MINUTE  # "c": half a minute, billed one
        + 1 * MEDIUM_PER_MINUTE
        + 3 * MEDIUM_PER_MINUTE
    )
    assert document["estimated_cost_usd"] == pytest.approx(expected_cost, abs=1e-4)
    assert [line["repository"] for line in document["by_repository"]] == ["octo-org/app", "octo-org/lib"]
    assert [(line["class"], line["runners"]) for line in document["by_class"]] == [
        ("large", 1),
        ("medium", 4),
    ]
    large = document["by_class"][0]
    assert (large["cpu"], large["memory"], large["spot"], large["architecture"]) == (
        4096,
        16384,
        False,
        "x86_64",
    )
    assert large["estimated_cost_usd"] == pytest.approx(20 * large_per_minute, abs=1e-4)
    assert document["unpriced_minutes"] == 0


def test_a_class_no_longer_defined_is_unpriced_not_guessed() -> None:
    gone = finished("g", ended_at=620, class_name="gpu")
    document = fleet_stats([gone], sizes=SIZES, since=T0, now=NOW).to_json()
    assert document["runner_minutes"] == 10.0
    assert (document["unpriced_minutes"], document["estimated_cost_usd"]) == (10.0, 0)
    line = document["by_class"][0]
    assert (line["class"], line["estimated_cost_usd"], line["cpu"], line["unpriced_minutes"]) == (
        "gpu",
        None,
        None,
        10.0,
    )
    assert document["by_repository"][0]["unpriced_minutes"] == 10.0


def test_minutes_go_to_the_repository_whose_job_the_runner_ran() -> None:
    other = finished("o", ended_at=620, run_job_repository="octo-org/other")
    document = fleet_stats([other], sizes=SIZES, since=T0, now=NOW).to_json()
    assert [line["repository"] for line in document["by_repository"]] == ["octo-org/other"]


def test_no_records_is_an_empty_but_complete_document() -> None:
    document = fleet_stats([], sizes=SIZES, since=T0, now=NOW).to_json()
    assert document["jobs"] == document["runners"] == 0
    assert document["queued_to_running_seconds"] == {"count": 0, "p50": None, "p90": None}
    assert document["by_repository"] == document["by_class"] == []
    assert document["since"] == "2026-11-20T12:00:00Z"
    assert document["until"] == "2026-11-20T18:00:00Z"
    assert set(document) == {
        "since",
        "until",
        "jobs",
        "runners",
        "by_status",
        "queued_to_running_seconds",
        "failures",
        "runner_minutes",
        "unpriced_minutes",
        "estimated_cost_usd",
        "by_repository",
        "by_class",
        "prices",
    }


def test_default_prices_are_the_benchmarks_list_prices() -> None:
    """One price list: bench/ must not be imported by the CLI, so the core keeps a copy; they agree."""
    price = bench_prices.price
    assert DEFAULT_PRICES.vcpu_hour == price("fargate_vcpu_x86")
    assert DEFAULT_PRICES.gb_hour == price("fargate_gb_x86")
    assert DEFAULT_PRICES.arm_vcpu_hour == price("fargate_vcpu_arm")
    assert DEFAULT_PRICES.arm_gb_hour == price("fargate_gb_arm")
    assert DEFAULT_PRICES.storage_gb_hour == price("fargate_storage")
    assert DEFAULT_PRICES.spot_discount == price("fargate_spot_discount")
    assert (DEFAULT_PRICES.region, DEFAULT_PRICES.read_on) == (bench_prices.REGION, bench_prices.READ_ON)


DURATIONS = st.lists(
    st.tuples(st.integers(0, 3600), st.integers(0, 7200), st.sampled_from(sorted(SIZES))), max_size=12
)


@given(DURATIONS)
def test_groups_add_up_to_the_totals(durations: list[tuple[int, int, str]]) -> None:
    records = [
        finished(
            f"r{i}",
            running_at=start + 20,
            ended_at=start + 20 + length,
            job_id=i,
            class_name=name,
            repository=f"octo-org/r{i % 3}",
        )
        for i, (start, length, name) in enumerate(durations)
    ]
    stats = fleet_stats(records, sizes=SIZES, since=T0, now=NOW)
    assert sum(line.minutes for line in stats.by_class.values()) == pytest.approx(stats.minutes)
    assert sum(line.minutes for line in stats.by_repository.values()) == pytest.approx(stats.minutes)
    assert sum(line.cost_usd for line in stats.by_repository.values()) == pytest.approx(stats.cost_usd)
    assert stats.cost_usd >= len(records) * min(DEFAULT_PRICES.per_minute(s) for s in SIZES.values()) - 1e-12
