"""The fault-injection campaign (see ``tests/reliability/campaign.py``): jobs through the real control
plane and janitor while GitHub, ECS and DynamoDB fail, webhooks and events get lost, tasks die before
their jobs, approvals take long, credentials rotate and invocations die part-way. Required: no job
lost (GitHub still holding it queued at the end), none duplicated, none killed."""

from __future__ import annotations

from tests.reliability.campaign import OVERLAPPING_MIX, Config, Figures, run
from tests.reliability.scale import SCALE, SEED, record_figures


def assert_no_job_left_behind(figures: Figures, config: Config) -> None:
    assert figures.jobs_queued == config.jobs
    assert figures.lost == 0, figures.lost_jobs
    assert figures.duplicated == 0, figures
    assert figures.killed == 0, figures
    assert figures.refused_valid_jobs == 0, figures  # only the unknown class is refused
    assert figures.unrelaunched_deaths == 0, figures
    # Every job with an unknown class is refused with its reason (some only found on GitHub).
    assert figures.jobs_refused == figures.jobs_with_refused_labels
    assert figures.runners_unaccounted == 0, figures
    assert figures.live_tasks_at_end == 0 and figures.active_runners_at_end == 0
    assert figures.capacity_counter_at_end == 0


def test_no_job_is_lost_duplicated_or_killed_under_faults() -> None:
    config = Config(jobs=SCALE.campaign_jobs, seed=SEED)
    figures = run(config)
    record_figures("campaign", {"config": config.__dict__, **figures.as_dict()})
    assert_no_job_left_behind(figures, config)
    # The faults really happened, and the run recovered from all of them.
    faults = figures.faults
    for kind in (
        "GitHub server error",
        "GitHub secondary rate limit",
        "GitHub 429 too many requests",
        "GitHub 422 on generate-jitconfig",
        "DynamoDB version conflict",
        "DynamoDB TransactionConflict",
        "invocations killed (SimulatedCrash)",
        "webhooks dropped (GitHub recorded them failed)",
        "ECS/CodeBuild events dropped",
        "crash between the build lock and StartBuild",
        "credential rotations",
    ):
        assert faults.get(kind, 0) > 0, kind
    assert any(kind.startswith("RunTask") for kind in faults)
    assert faults["tasks that died before their job"] >= 0.10 * figures.tasks_started * 0.8
    assert faults["webhooks dropped (GitHub recorded them failed)"] >= 0.05 * figures.jobs_queued
    assert figures.jobs_behind_approval > 0
    assert max(figures.attempts_used) > 1  # some launches needed retries
    caught = figures.caught
    for mechanism in (
        "relaunches after a task died before its job (RunnersRelaunched)",
        "failed deliveries redelivered (WebhooksRedelivered)",
        "build locks taken over (ImageBuildLocksRecovered)",
        "credentials read again after a 401 (CredentialsReloaded)",
    ):
        assert caught[mechanism] > 0, mechanism


def test_with_label_sets_that_contain_one_another_and_reconciliation_alone() -> None:
    """GitHub gives a job to any runner whose labels include the job's, so a runner launched for
    ("self-hosted", "linux", "class:large") takes ("self-hosted", "linux") jobs; the large job then
    gets a successor. Here the janitor does not know the webhook: lost deliveries are found by
    reconciling with GitHub's queue alone."""
    config = Config(
        jobs=SCALE.overlapping_jobs, seed=SEED + 1, job_mix=OVERLAPPING_MIX, webhook_redelivery=False
    )
    figures = run(config)
    record_figures("campaign_overlapping", {"config": config.__dict__, **figures.as_dict()})
    assert_no_job_left_behind(figures, config)
    assert figures.runners_replaced > 0, figures
    assert figures.caught["queued jobs found on GitHub (JobsReconciled)"] > 0, figures
    assert figures.caught["failed deliveries redelivered (WebhooksRedelivered)"] == 0


def test_with_warm_pools_no_job_is_lost_and_no_warm_runner_is_claimed_twice() -> None:
    pools = '{"medium": {"class": "medium", "size": 3}, "large": {"class": "large", "size": 1}}'
    config = Config(jobs=SCALE.pool_jobs, seed=SEED + 2, warm_pools=pools, max_arrivals_per_round=2)
    figures = run(config)
    record_figures("campaign_pools", {"config": config.__dict__, **figures.as_dict()})
    assert_no_job_left_behind(figures, config)
    assert figures.warm_claims > 0 and figures.warm_runners > figures.warm_claims
    assert figures.warm_runners_claimed_twice == 0, figures
