"""The JOB column: a job, the job a runner ran instead, or the pool of an idle warm runner."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from ecsrunner.commands.formatting import job_text

from tests.cli.cli_records import REPOSITORY, runner


def test_an_idle_warm_runner_shows_its_pool_not_job_zero() -> None:
    warm = replace(runner("ecsr-warm", job_id=0, age=timedelta(minutes=5)), pool="medium")
    assert job_text(warm) == "warm pool medium"


def test_a_claimed_warm_runner_shows_its_job() -> None:
    claimed = replace(runner("ecsr-warm", job_id=42, age=timedelta(minutes=5)), pool="medium")
    assert job_text(claimed) == f"{REPOSITORY}#42"


def test_a_warm_runner_that_github_gave_a_job_shows_that_job() -> None:
    warm = replace(runner("ecsr-warm", job_id=0, age=timedelta(minutes=5)), pool="medium", run_job_id=77)
    assert job_text(warm) == "warm pool medium → #77"
