"""The fault-injection campaign (see ``tests/reliability/campaign.py``): jobs through the real control
plane and janitor while GitHub, ECS and DynamoDB fail and invocations die part-way. Required: no job
lost, none duplicated."""

from __future__ import annotations

from tests.reliability.campaign import OVERLAPPING_MIX, Config, run
from tests.reliability.scale import SCALE, SEED, record_figures


def test_no_job_is_lost_or_duplicated_under_faults() -> None:
    config = Config(jobs=SCALE.campaign_jobs, seed=SEED)
    figures = run(config)
    record_figures("campaign", {"config": config.__dict__, **figures.as_dict()})

    assert figures.jobs_queued == config.jobs
    assert figures.lost == 0, figures
    assert figures.duplicated == 0, figures
    # Every valid job was accepted, and every runner got its task, FAILED with a reason or was retired
    # as surplus (its job ran on another runner of ours).
    assert figures.accepted == figures.jobs_for_this_fleet - figures.jobs_refused
    assert figures.runners_unaccounted == 0, figures
    # The faults really happened, and the run recovered from all of them.
    faults = figures.faults
    for kind in ("GitHub server error", "GitHub secondary rate limit", "GitHub 429 too many requests"):
        assert faults.get(kind, 0) > 0, kind
    assert faults["DynamoDB version conflict"] and faults["DynamoDB TransactionConflict"]
    assert any(kind.startswith("RunTask") for kind in faults)
    assert faults["invocations killed (SimulatedCrash)"] > 0
    assert max(figures.attempts_used) > 1  # some launches needed retries
    assert figures.live_tasks_at_end == 0 and figures.active_runners_at_end == 0
    assert figures.capacity_counter_at_end == 0


def test_with_label_sets_that_contain_one_another_no_job_is_lost_or_duplicated() -> None:
    """GitHub gives a job to any runner whose labels include the job's, so a runner launched for
    ("self-hosted", "linux", "class:large") takes ("self-hosted", "linux") jobs; the large job then
    gets a replacement runner. Nothing is lost or duplicated, and replacements really happened."""
    config = Config(jobs=SCALE.overlapping_jobs, seed=SEED + 1, job_mix=OVERLAPPING_MIX)
    figures = run(config)
    record_figures("campaign_overlapping", {"config": config.__dict__, **figures.as_dict()})

    assert figures.lost == 0, figures
    assert figures.duplicated == 0, figures
    assert figures.runners_replaced > 0, figures
    assert figures.runners_unaccounted == 0, figures
    assert figures.live_tasks_at_end == 0 and figures.active_runners_at_end == 0
    assert figures.capacity_counter_at_end == 0
