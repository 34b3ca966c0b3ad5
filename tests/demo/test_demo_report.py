"""The demo's bookkeeping: stage medians from runner histories, and its work directory."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ecsrunner_core.domain.runner import HistoryEntry, RunnerRecord, new_runner_record
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_sandbox.demo_report import stage_medians

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
