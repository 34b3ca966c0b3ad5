"""The demo's bookkeeping: stage medians from runner histories, its work directory, and the
checks and summary lines of the warm pool and no-job-left-behind parts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ecsrunner_core.domain.runner import HistoryEntry, RunnerRecord, new_runner_record
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_sandbox.demo_report import (
    JobStart,
    LeftBehindFacts,
    WarmFacts,
    format_summary,
    left_behind_checks,
    left_behind_lines,
    stage_medians,
    warm_checks,
    warm_lines,
    warm_summary,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def record(*steps: tuple[RunnerStatus, float]) -> RunnerRecord:
    base = new_runner_record(
        runner_name="ecsr-a", job_id=1, repository="o/r", labels=("self-hosted",), at=T0, reason="queued"
    )
    history = tuple(HistoryEntry(status, T0 + timedelta(seconds=at), "") for status, at in steps)
    return replace(base, history=history)


def test_medians_follow_each_runner_through_its_history() -> None:
    s = RunnerStatus
    with_build = record(
        (s.STARTING, 0),
        (s.IMAGE_CREATING, 1),
        (s.STARTING, 11),
        (s.WAITING_FOR_JOB, 12),
        (s.RUNNING, 13),
        (s.OFFLINE, 20),
    )
    plain = record((s.STARTING, 0), (s.WAITING_FOR_JOB, 2), (s.RUNNING, 5), (s.OFFLINE, 6))
    refused = record((s.FAILED, 0))

    medians = stage_medians([with_build, plain, refused])

    assert medians["accepted → task RUNNING (incl. image build)"] == 7.0  # median of 12 and 2
    assert medians["waiting for the image build"] == 10.0  # IMAGE_CREATING, then the STARTING after it
    assert medians["WAITING_FOR_JOB → RUNNING"] == 2.0
    assert medians["RUNNING → OFFLINE"] == 4.0
    assert medians["accepted → OFFLINE"] == 13.0


def test_the_work_dir_is_emptied_only_when_the_demo_made_it(tmp_path: Path) -> None:
    from ecsrunner_sandbox.demo import WORK_DIR_MARKER, WorkDirNotOurs, prepare_work_dir

    fresh = tmp_path / "fresh"
    prepare_work_dir(fresh)
    (fresh / "logs" / "old.log").write_text("from the last run")
    prepare_work_dir(fresh)  # marked by the first run: emptied
    assert (fresh / WORK_DIR_MARKER).is_file() and not (fresh / "logs" / "old.log").exists()

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    with pytest.raises(WorkDirNotOurs):
        prepare_work_dir(foreign)
    assert (foreign / "precious.txt").read_text() == "keep me"


def start(kind: str, **changes: object) -> JobStart:
    base = JobStart(
        start=kind,
        job_id=7 if kind == "warm" else 8,
        name=kind,
        labels=("self-hosted", "class:medium" if kind == "warm" else "class:small"),
        answer="warm runner from pool medium" if kind == "warm" else "STARTING: job 8 queued",
        runner="ecsr-warm" if kind == "warm" else "ecsr-cold",
        runner_pool="medium" if kind == "warm" else None,
        tasks_for_job=0 if kind == "warm" else 1,
        ran_once=True,
        latency_seconds=0.2 if kind == "warm" else 0.5,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def warm_facts(*starts: JobStart) -> WarmFacts:
    return WarmFacts(
        pool="medium",
        class_name="medium",
        size=1,
        filled=True,
        fill_added=1,
        idle_before=["ecsr-warm"],
        starts=list(starts),
        refills=1,
        idle_after=["ecsr-refill"],
        idle_after_tasks=1,
        idle_after_github=1,
        latency_metrics={"warm": [0.3], "cold": [2.5, 0.6]},
        settled=True,
    )


def test_a_warm_hit_passes_only_without_a_task_for_its_job() -> None:
    good = warm_checks(warm_facts(start("warm"), start("cold")), 1)
    assert all(c.ok for c in good), [c for c in good if not c.ok]
    launched = warm_checks(warm_facts(start("warm", tasks_for_job=1), start("cold")), 1)
    assert [c.name for c in launched if not c.ok] == [
        "job 7 (warm) took the idle warm runner: no task started for it"
    ]
    no_task = warm_checks(warm_facts(start("warm"), start("cold", tasks_for_job=0)), 1)
    assert [c.name for c in no_task if not c.ok] == ["job 8 (cold) started cold: one task started for it"]


def test_the_summary_shows_the_warm_hit_next_to_the_cold_start() -> None:
    lines = warm_lines(warm_summary(warm_facts(start("warm"), start("cold"))))
    warm_row = next(line for line in lines if line.startswith("  warm "))
    cold_row = lines[lines.index(warm_row) + 1]
    assert cold_row.startswith("  cold ")
    assert "(pool medium)" in warm_row and "(launched for the job)" in cold_row
    tasks = [row.split("]")[1].split()[0] for row in (warm_row, cold_row)]
    assert tasks == ["0", "1"]  # tasks started for the job


def left_facts(**changes: object) -> LeftBehindFacts:
    base = LeftBehindFacts(
        spot_job_id=5,
        spot_labels=("self-hosted", "class:spot"),
        interrupted="ecsr-a",
        interrupted_status="FAILED",
        interrupted_reason="task stopped (SpotInterruption)",
        interrupted_took_job=False,
        relaunched_as="ecsr-b",
        relaunch_on_demand=True,
        spot_ran_on="ecsr-b",
        spot_tasks=2,
        spot_ran_once=True,
        lost_job_id=6,
        lost_labels=("self-hosted", "class:large"),
        lost_deliveries=0,
        jobs_reconciled=1,
        lost_runner="ecsr-c",
        lost_found_on_github=True,
        lost_tasks=1,
        lost_ran_once=True,
        settled=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_no_job_left_behind_needs_the_relaunch_and_the_reconciliation() -> None:
    assert all(c.ok for c in left_behind_checks(left_facts()))
    ran_on_the_interrupted = left_behind_checks(left_facts(spot_ran_on="ecsr-a", interrupted_took_job=True))
    assert [c.ok for c in ran_on_the_interrupted] == [True, False, True]
    delivered = left_behind_checks(left_facts(lost_deliveries=1, jobs_reconciled=0))
    assert [c.ok for c in delivered] == [True, True, False]
    text = "\n".join(left_behind_lines({**left_facts().__dict__}))
    assert "SpotInterruption" in text and "jobs_reconciled 1" in text


def test_the_summary_ends_with_the_runners_stats_output() -> None:
    data = {
        "jobs": {"queued": 2, "valid": 2, "completed": 2, "refused": 0, "ignored": 0},
        "events": {},
        "runners": {"OFFLINE": 2},
        "duplicates_delivered": 0,
        "duplicates_created": 0,
        "forged_sent": 0,
        "forged_accepted": 0,
        "image_builds": 1,
        "leftover": {"tasks_running": 0},
        "runner_stage_medians_seconds": {},
        "stages": [],
        "wall_seconds": 1.0,
        "runners_stats": ["jobs              2", "queued → running  p50 0s"],
    }
    lines = format_summary(data)
    assert lines[-3:] == [
        "python -m ecsrunner runners stats:",
        "  jobs              2",
        "  queued → running  p50 0s",
    ]
