"""Which queued GitHub jobs need a runner: the matching of queued jobs with live idle runners."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from ecsrunner_core.domain.runner import new_runner_record
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.ports import GitHubJob
from ecsrunner_core.settings import Settings
from ecsrunner_core.usecases.reconcile import event_for, uncovered_jobs

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PLAIN = ("self-hosted", "linux")
LARGE = ("self-hosted", "linux", "class:large")
DEPS: Any = SimpleNamespace(
    settings=Settings(name="ecsr", runner_table="t", class_sizes_param="/p", github_repo="o/r")
)


def job(job_id: int, labels: tuple[str, ...] = PLAIN, minutes: int = 0, status: str = "queued") -> GitHubJob:
    return GitHubJob(
        id=job_id,
        run_id=1,
        repository="o/r",
        status=status,
        labels=labels,
        created_at=T0 + timedelta(minutes=minutes),
    )


def runner(name: str, job_id: int, labels: tuple[str, ...] = PLAIN, **fields: Any) -> Any:
    status = fields.pop("status", RunnerStatus.STARTING)
    return new_runner_record(
        runner_name=name,
        job_id=job_id,
        repository="o/r",
        labels=labels,
        at=T0,
        reason="test",
        status=status,
        class_name="medium",
        **fields,
    )


def ids(jobs: list[GitHubJob]) -> list[int]:
    return [j.id for j in jobs]


def test_a_job_with_its_own_idle_runner_is_covered() -> None:
    assert uncovered_jobs(DEPS, [job(1)], [runner("a", 1)], set()) == []


def test_a_job_without_any_runner_is_uncovered() -> None:
    assert ids(uncovered_jobs(DEPS, [job(1)], [], set())) == [1]


def test_a_runner_covers_one_job_only() -> None:
    # Runner a was launched for job 1 and can take job 2 (same labels), but not both.
    assert ids(uncovered_jobs(DEPS, [job(1), job(2, minutes=1)], [runner("a", 1)], set())) == [2]


def test_a_left_over_runner_covers_a_displaced_job_with_the_same_labels() -> None:
    # Job 1's runner took job 3 (it ran); job 3's runner b is idle and covers job 1.
    taken = runner("a", 1, run_job_id=3, status=RunnerStatus.RUNNING)
    assert uncovered_jobs(DEPS, [job(1)], [taken, runner("b", 3)], set()) == []


def test_a_runner_with_fewer_labels_does_not_cover_a_job_with_more() -> None:
    assert ids(uncovered_jobs(DEPS, [job(1, LARGE)], [runner("b", 3, PLAIN)], set())) == [1]


def test_a_runner_busy_on_github_covers_nothing_even_if_our_record_says_idle() -> None:
    # Its in_progress delivery was lost: GitHub's list of running jobs names it.
    assert ids(uncovered_jobs(DEPS, [job(1)], [runner("a", 1)], {"a"})) == [1]


def test_terminal_runners_cover_nothing() -> None:
    dead = runner("a", 1, status=RunnerStatus.FAILED)
    assert ids(uncovered_jobs(DEPS, [job(1)], [dead], set())) == [1]


def test_jobs_of_another_fleet_are_left_alone_and_refused_ones_are_kept() -> None:
    foreign = job(1, ("ubuntu-latest",))
    refused = job(2, ("self-hosted", "class:a", "class:b"))
    assert ids(uncovered_jobs(DEPS, [foreign, refused], [], set())) == [2]


def test_the_oldest_jobs_are_covered_first_and_exact_label_matches_preferred() -> None:
    # One idle runner with large labels (its own job is not queued any more), two queued jobs:
    # the older one gets it.
    spare = runner("s", 99, LARGE)
    assert ids(uncovered_jobs(DEPS, [job(2, minutes=5), job(1, minutes=1)], [spare], set())) == [2]
    # With a plain and a large spare, the plain job takes the plain one, the large job the large one.
    plain_spare = runner("p", 98, PLAIN)
    assert uncovered_jobs(DEPS, [job(1, PLAIN), job(2, LARGE, 1)], [spare, plain_spare], set()) == []


def test_the_event_built_for_a_found_job_is_a_queued_delivery_of_it() -> None:
    found = job(7, LARGE)
    event = event_for(found)
    assert (event.action, event.job_id, event.labels, event.repository) == ("queued", 7, LARGE, "o/r")
    assert (event.status, event.created_at, event.owner) == ("queued", found.created_at, "o")
