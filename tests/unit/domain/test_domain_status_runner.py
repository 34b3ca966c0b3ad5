"""The runner status machine (one table) and the immutable runner record."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
from ecsrunner_core.domain.runner import HistoryEntry, RunnerRecord, new_runner_record
from ecsrunner_core.domain.status import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    RunnerStatus,
    can_transition,
)
from hypothesis import given
from hypothesis import strategies as st

S = RunnerStatus
T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)

# The documented table, written out pair by pair.
ALLOWED = {
    (S.STARTING, S.IMAGE_CREATING),
    (S.STARTING, S.WAITING_FOR_JOB),
    (S.STARTING, S.RUNNING),
    (S.STARTING, S.OFFLINE),
    (S.STARTING, S.FAILED),
    (S.IMAGE_CREATING, S.STARTING),  # image ready: launch
    (S.IMAGE_CREATING, S.OFFLINE),
    (S.IMAGE_CREATING, S.FAILED),
    (S.WAITING_FOR_JOB, S.RUNNING),
    (S.WAITING_FOR_JOB, S.OFFLINE),
    (S.WAITING_FOR_JOB, S.FAILED),
    (S.RUNNING, S.OFFLINE),
    (S.RUNNING, S.FAILED),
}
ALL_PAIRS = list(product(RunnerStatus, RunnerStatus))


def record(status: RunnerStatus = S.STARTING, **fields: object) -> RunnerRecord:
    return new_runner_record(
        runner_name="demo-abcdefghijklmnopqrstuvwxyz2",
        job_id=11,
        repository="octo/repo",
        labels=("self-hosted", "linux"),
        at=T0,
        reason="job 11 queued",
        status=status,
        **fields,
    )


def test_statuses() -> None:
    assert [s.value for s in RunnerStatus] == [
        "STARTING",
        "IMAGE_CREATING",
        "WAITING_FOR_JOB",
        "RUNNING",
        "OFFLINE",
        "FAILED",
    ]
    assert frozenset({S.OFFLINE, S.FAILED}) == TERMINAL_STATUSES
    assert set(ACTIVE_STATUSES) == set(RunnerStatus) - TERMINAL_STATUSES
    assert [s for s in RunnerStatus if s.terminal] == [S.OFFLINE, S.FAILED]


def test_the_table_is_exactly_the_documented_one() -> None:
    assert set(TRANSITIONS) == set(RunnerStatus)
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_can_transition_follows_the_table(current: RunnerStatus, target: RunnerStatus) -> None:
    assert can_transition(current, target) is ((current, target) in ALLOWED)


def test_terminal_statuses_absorb_and_nothing_repeats() -> None:
    for status in TERMINAL_STATUSES:
        assert not TRANSITIONS[status]
    for status in RunnerStatus:
        assert not can_transition(status, status)


def test_every_active_status_can_end() -> None:
    for status in ACTIVE_STATUSES:
        assert {S.OFFLINE, S.FAILED} <= TRANSITIONS[status]


def test_the_only_way_back_is_image_creating_to_starting() -> None:
    """Apart from IMAGE_CREATING -> STARTING (the image is ready, launch), every edge moves forward."""
    order = {s: i for i, s in enumerate(RunnerStatus)}
    backwards = {(a, b) for a, b in ALLOWED if order[b] < order[a]}
    assert backwards == {(S.IMAGE_CREATING, S.STARTING)}


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
@pytest.mark.parametrize("holds_slot", [False, True])
def test_transition_of_every_pair(current: RunnerStatus, target: RunnerStatus, holds_slot: bool) -> None:
    before = record(current, holds_slot=holds_slot, next_attempt_at=T0 + timedelta(seconds=30))
    at = T0 + timedelta(minutes=1)
    after = before.transition(target, "because", at)
    if (current, target) not in ALLOWED:
        assert after is None
        return
    assert after is not None
    assert after is not before
    assert after.status is target
    assert after.status_reason == "because"
    assert after.updated_at == at
    assert after.created_at == T0
    assert after.history == (*before.history, HistoryEntry(target, at, "because"))
    assert after.status_since == at
    assert after.terminal is target.terminal
    assert after.holds_slot is (holds_slot and not target.terminal)
    assert after.next_attempt_at == (None if target.terminal else T0 + timedelta(seconds=30))
    assert after.version == before.version  # the store bumps versions, not the domain
    unchanged = {"status", "status_reason", "updated_at", "history", "holds_slot", "next_attempt_at"}
    for field in dataclasses.fields(RunnerRecord):
        if field.name not in unchanged:
            assert getattr(after, field.name) == getattr(before, field.name), field.name
    # The original is untouched.
    assert before.status is current
    assert len(before.history) == 1


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.RUNNING, S.WAITING_FOR_JOB),
        (S.RUNNING, S.STARTING),
        (S.WAITING_FOR_JOB, S.STARTING),
        (S.WAITING_FOR_JOB, S.IMAGE_CREATING),
        (S.IMAGE_CREATING, S.WAITING_FOR_JOB),
        (S.OFFLINE, S.FAILED),
        (S.FAILED, S.OFFLINE),
        (S.OFFLINE, S.RUNNING),
        (S.FAILED, S.STARTING),
    ],
)
def test_late_or_backwards_events_are_no_ops(current: RunnerStatus, target: RunnerStatus) -> None:
    assert record(current).transition(target, "late event", T0) is None


def test_new_runner_record() -> None:
    rec = record(class_name="medium", image="docker.io/library/ubuntu:22.04", image_tag="t")
    assert rec.status is S.STARTING
    assert rec.status_reason == "job 11 queued"
    assert rec.history == (HistoryEntry(S.STARTING, T0, "job 11 queued"),)
    assert rec.created_at == rec.updated_at == rec.status_since == T0
    assert rec.runner_id == rec.runner_name
    assert (rec.class_name, rec.image, rec.image_tag) == ("medium", "docker.io/library/ubuntu:22.04", "t")
    assert rec.job_id == 11
    assert rec.run_job_id is None
    assert not rec.launched
    assert not rec.holds_slot
    assert rec.attempts == 0


def test_launch_job_and_run_job_are_kept_apart() -> None:
    rec = record().touch(T0 + timedelta(seconds=5), run_job_id=42, run_job_repository="octo/other")
    assert (rec.job_id, rec.run_job_id, rec.run_job_repository) == (11, 42, "octo/other")
    assert rec.repository == "octo/repo"


def test_touch_changes_fields_but_never_the_status() -> None:
    at = T0 + timedelta(seconds=9)
    rec = record().touch(at, task_arn="arn:aws:ecs:eu-west-1:1:task/c/t", attempts=1)
    assert rec.launched
    assert rec.attempts == 1
    assert rec.updated_at == at
    assert rec.status is S.STARTING
    assert rec.history == record().history
    for field in ("status", "status_reason", "history"):
        with pytest.raises(ValueError, match="use transition"):
            record().touch(at, **{field: S.RUNNING})


def test_a_record_created_terminal_stays_terminal() -> None:
    failed = record(S.FAILED)
    assert failed.terminal
    for status in RunnerStatus:
        assert failed.transition(status, "x", T0) is None


steps = st.lists(
    st.tuples(st.sampled_from(list(RunnerStatus)), st.text(max_size=5), st.integers(0, 3600)),
    max_size=30,
)


@given(st.sampled_from(list(RunnerStatus)), steps)
def test_any_sequence_of_attempts_follows_the_table(
    start: RunnerStatus, attempts: list[tuple[RunnerStatus, str, int]]
) -> None:
    rec = record(start, holds_slot=not start.terminal)
    at = T0
    applied = 0
    for target, reason, seconds in attempts:
        at += timedelta(seconds=seconds)
        moved = rec.transition(target, reason, at)
        if (rec.status, target) in ALLOWED:
            assert moved is not None
            assert moved.history[-1] == HistoryEntry(target, at, reason)
            rec = moved
            applied += 1
        else:
            assert moved is None
    assert len(rec.history) == 1 + applied
    assert rec.status is rec.history[-1].status
    assert rec.status_reason == rec.history[-1].reason
    for earlier, later in zip(rec.history, rec.history[1:], strict=False):
        assert (earlier.status, later.status) in ALLOWED
        assert not earlier.status.terminal
        assert earlier.at <= later.at
    if rec.terminal:
        assert not rec.holds_slot
        assert rec.next_attempt_at is None
    else:
        assert rec.holds_slot


def test_a_note_records_when_a_clock_starts_without_changing_the_status() -> None:
    at = T0 + timedelta(seconds=30)
    rec = record().note("task started (RunTask)", at)
    assert rec.status is S.STARTING and rec.status_reason == "job 11 queued"
    assert rec.history[-1] == HistoryEntry(S.STARTING, at, "task started (RunTask)")
    assert rec.status_since == at  # the latest entry: when the current clock started
    assert rec.updated_at == at


def test_took_job_is_true_once_the_runner_ran_a_job_even_after_it_ended() -> None:
    assert not record().took_job
    assert record().touch(T0, run_job_id=5).took_job
    busy = record().transition(S.RUNNING, "GitHub reports it busy", T0)
    assert busy is not None and busy.took_job
    ended = busy.transition(S.FAILED, "TTL", T0)
    assert ended is not None and ended.took_job and ended.run_job_id is None
    died = record().transition(S.FAILED, "task stopped", T0)
    assert died is not None and not died.took_job


def test_queued_since_is_the_jobs_queued_time_when_known() -> None:
    queued = T0 - timedelta(minutes=20)
    assert record().queued_since == T0
    assert record(job_queued_at=queued).queued_since == queued
