"""The campaign catches deliberate breakages of the rules it checks (each is a way jobs were lost or
killed before): every RunTask failure treated as permanent, a runner's task stopped as soon as its
job starts, no reconciliation with GitHub, no relaunch after a runner dies before its job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ecsrunner_core.usecases import janitor, jobs, launch, relaunch, tasks

from tests.reliability.campaign import Config, Figures, run
from tests.reliability.scale import SEED, record_figures

JOBS = 40


def all_runtask_failures_permanent(monkeypatch: pytest.MonkeyPatch) -> None:
    original = launch._record_failure

    def record_failure(deps: Any, name: str, message: str, *, transient: bool, attempt: Any) -> None:
        permanent = "RunTask" in message
        original(deps, name, message, transient=transient and not permanent, attempt=attempt)

    monkeypatch.setattr(launch, "_record_failure", record_failure)


def task_stopped_when_its_job_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    original = jobs.job_started

    def job_started(deps: Any, event: Any, deadline: Any = None) -> Any:
        outcome = original(deps, event, deadline)
        record = deps.store.get(event.runner_name) if event.runner_name else None
        if record is not None and record.task_arn:
            deps.launcher.stop_task(record.task_arn, "broken on purpose")
        return outcome

    monkeypatch.setattr(jobs, "job_started", job_started)


def no_reconciliation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(janitor, "reconcile_with_github", lambda *args, **kwargs: None)


def no_relaunch(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (tasks, janitor, relaunch):
        monkeypatch.setattr(module, "relaunch_after_death", lambda *args, **kwargs: None)


def broken(figures: Figures) -> bool:
    """What the campaign test asserts, negated: some job lost, killed, duplicated, refused though
    valid, or left without a runner when its runner died."""
    return bool(
        figures.lost
        or figures.killed
        or figures.duplicated
        or figures.refused_valid_jobs
        or figures.unrelaunched_deaths
    )


BREAKAGES: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "every RunTask failure permanent": all_runtask_failures_permanent,
    "task stopped when its job starts": task_stopped_when_its_job_starts,
    "no reconciliation": no_reconciliation,
    "no relaunch": no_relaunch,
}


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_the_campaign_catches_a_breakage(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    BREAKAGES[name](monkeypatch)
    figures = run(Config(jobs=JOBS, seed=SEED))
    assert broken(figures), f"{name}: the campaign did not notice ({figures.as_dict()})"
    record_figures(
        f"breakage_{name.replace(' ', '_')}",
        {
            "breakage": name,
            "jobs": JOBS,
            **{key: getattr(figures, key) for key in ("lost", "killed", "duplicated", "refused_valid_jobs")},
            "unrelaunched_deaths": figures.unrelaunched_deaths,
        },
    )
