"""The fault-injection campaign: many jobs through the real control plane and janitor under faults.

GitHub (the stand-in plus its runner simulator) queues jobs and sends their ``workflow_job``
webhooks; ECS (:class:`~tests.reliability.fleet.Fleet`) moves the tasks the control plane starts and
sends their events; runners come online with their JIT config, GitHub gives each online runner the
oldest queued job it can run, the job completes and the runner's task stops. Meanwhile:

* the GitHub stand-in answers 500, 403 secondary rate limit and 429 (and a 502 after acting) at a
  configured rate;
* RunTask throttles, fails, reports capacity ``failures[]`` or loses its answer after starting a task;
* DynamoDB writes meet real version conflicts and ``TransactionConflict`` cancellations;
* an invocation dies between two AWS calls (:class:`~tests.lifecycle.support.SimulatedCrash`), as a
  Lambda timeout would end it. EventBridge retries a failed event; GitHub does not redeliver a
  failed webhook;
* webhooks are redelivered and events duplicated, reordered and delivered late.

Then the faults stop and the run continues (the janitor on its schedule) until nothing is left to
do. :class:`Figures` holds what happened; ``lost`` and ``duplicated`` must be 0.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.janitor import run_janitor
from ecsrunner_sandbox.github_faults import secondary_limit, server_error, too_many_requests
from ecsrunner_sandbox.github_state import Job

from tests.lifecycle.support import REPO, SimulatedCrash, World, build_event
from tests.reliability.aws_faults import CrashCountdown, RandomAwsFaults, installed
from tests.reliability.deliveries import Delivery, aws_event, send, webhook
from tests.reliability.determinism import repeatable
from tests.reliability.fleet import Fleet, SimTask
from tests.reliability.observe import (
    active_slots,
    duplicated_jobs,
    duplicates,
    launch_attempts,
    runner_records,
    runners_allowed,
    was_launched,
)
from tests.reliability.worlds import fresh_world, push_image_once

UNBUILT_IMAGE = "ubuntu:24.04"
REFUSED_LABEL = "class:nope"
FOREIGN_LABEL = "ubuntu-latest"
# (labels, share of jobs): most jobs use the default class; some need a bigger class or an image that
# must be built first; some are refused (unknown class) and some belong to another fleet. Here no
# valid label set contains another, so runners only ever swap jobs with the same labels.
JOB_MIX: tuple[tuple[tuple[str, ...], float], ...] = (
    (("self-hosted", "linux"), 0.80),
    (("self-hosted", "class:large"), 0.08),
    (("self-hosted", f"image:{UNBUILT_IMAGE}"), 0.04),
    (("self-hosted", REFUSED_LABEL), 0.04),
    ((FOREIGN_LABEL,), 0.04),
)
# The same shares, but every valid label set includes ("self-hosted", "linux"): GitHub gives a job to
# any runner whose labels include the job's, so large and image runners take default jobs, and the
# control plane must replace them for their own jobs.
OVERLAPPING_MIX: tuple[tuple[tuple[str, ...], float], ...] = (
    (("self-hosted", "linux"), 0.80),
    (("self-hosted", "linux", "class:large"), 0.08),
    (("self-hosted", "linux", f"image:{UNBUILT_IMAGE}"), 0.04),
    (("self-hosted", REFUSED_LABEL), 0.04),
    ((FOREIGN_LABEL,), 0.04),
)
JANITOR_EVERY_SECONDS = 300  # rate(5 minutes), the module's default
SETTLE_ROUNDS = 400


@dataclass(frozen=True)
class Config:
    jobs: int = 100
    seed: int = 20261123
    github_fault_rate: float = 0.30  # spread evenly over 500, 403 secondary limit, 429 (and a late 502)
    runtask_fault_rate: float = 0.15
    lost_response_rate: float = 0.02
    conflict_rate: float = 0.10
    crash_rate: float = 0.05  # of invocations (webhooks, events, janitor runs)
    redelivery_rate: float = 0.10
    duplicate_event_rate: float = 0.10
    max_arrivals_per_round: int = 6
    round_seconds: int = 20
    max_runners: int = 25
    job_mix: tuple[tuple[tuple[str, ...], float], ...] = JOB_MIX


@dataclass
class Figures:
    jobs_queued: int = 0
    jobs_for_this_fleet: int = 0
    jobs_refused: int = 0  # unserviceable labels: FAILED at once with the reason
    jobs_foreign: int = 0  # another fleet's labels: ignored
    accepted: int = 0  # valid jobs with a runner record
    runners_launched: int = 0  # runners a task was started for
    tasks_started: int = 0
    runners_failed: int = 0  # FAILED before running a job, with the reason in the record
    jobs_completed_on_github: int = 0
    jobs_left_queued_on_github: int = 0
    duplicated: int = 0
    duplicated_records: int = 0
    duplicated_running_tasks: int = 0
    runners_replaced: int = 0  # launched for a job whose runner took a job with fewer labels
    lost: int = 0
    lost_no_record: int = 0  # a valid job the control plane never recorded
    lost_unserved_on_github: int = 0  # still queued on GitHub, and no FAILED runner explains it
    unserved_label_sets: list[str] = field(default_factory=list)  # of the jobs counted just above
    runners_retired_unlaunched: int = 0  # surplus runners ended before a task started (their job ran)
    runners_unaccounted: int = 0  # neither launched, nor FAILED, nor retired as surplus: must be 0
    attempts_used: dict[int, int] = field(default_factory=dict)
    failure_reasons: dict[str, int] = field(default_factory=dict)
    webhook_statuses: dict[int, int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    janitor: dict[str, int] = field(default_factory=dict)
    version_conflicts_retried: int = 0
    capacity_counter_at_end: int = 0
    live_tasks_at_end: int = 0
    active_runners_at_end: int = 0
    simulated_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Campaign:
    world: World
    config: Config
    rng: random.Random
    fleet: Fleet
    crash: CrashCountdown
    aws: RandomAwsFaults
    jobs: dict[int, Job] = field(default_factory=dict)
    running: dict[int, SimTask] = field(default_factory=dict)  # job id -> task running it
    pending: list[Delivery] = field(default_factory=list)
    later: list[Delivery] = field(default_factory=list)
    figures: Figures = field(default_factory=Figures)
    statuses: Counter[int] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    janitor_totals: Counter[str] = field(default_factory=Counter)
    faults_on: bool = True
    next_janitor: float = 0.0

    # --- GitHub -------------------------------------------------------------------------------

    def queue_jobs(self, count: int) -> None:
        labels_pool = [labels for labels, _ in self.config.job_mix]
        weights = [share for _, share in self.config.job_mix]
        for _ in range(count):
            labels = self.rng.choices(labels_pool, weights)[0]
            job = self.world.sim.queue_job(REPO, labels)
            self.jobs[job.id] = job
            self.send_webhook(job, "queued")
            if self.rng.random() < self.config.redelivery_rate:
                self.later.append(webhook(self.world.sim.payload(job, "queued"), "queued"))

    def send_webhook(self, job: Job, action: str) -> None:
        self.pending.append(webhook(self.world.sim.payload(job, action), action))

    def runners_take_jobs(self) -> None:
        online = self.fleet.online()
        self.rng.shuffle(online)
        for task in online:
            assert task.github_runner_id is not None
            if any(t is task for t in self.running.values()):
                continue
            job = self.world.sim.assign_job(task.github_runner_id)
            if job is not None:
                self.running[job.id] = task
                self.send_webhook(job, "in_progress")

    def jobs_finish(self) -> None:
        for job_id, task in list(self.running.items()):
            if self.rng.random() < 0.5:
                conclusion = "success" if self.rng.random() < 0.9 else "failure"
                job = self.world.sim.complete_job(job_id, conclusion)
                del self.running[job_id]
                self.send_webhook(job, "completed")
                self.events(self.fleet.runner_exits(task))

    # --- ECS and CodeBuild --------------------------------------------------------------------

    def events(self, events: list[dict[str, Any]]) -> None:
        self.pending.extend(aws_event(event) for event in events)

    def ecs_moves_tasks(self) -> None:
        for task in self.fleet.live():
            if self.rng.random() < 0.6:
                self.events(self.fleet.advance(task))

    def builds_finish(self) -> None:
        """CodeBuild finishes a build a while after it started: the image is pushed, the event sent."""
        for image in self.world.store().list_images():
            if image.state.value != "BUILDING" or not image.build_id:
                continue
            if self.rng.random() < 0.3:
                push_image_once(self.world, UNBUILT_IMAGE)
                event = build_event(
                    build_arn=self.world.build_arn(image.build_id),
                    project=self.world.settings.codebuild_project_name,
                    status="SUCCEEDED",
                )
                self.pending.append(aws_event(event))

    # --- the control plane --------------------------------------------------------------------

    def deliver_all(self) -> None:
        batch, self.pending = self.pending, []
        self.rng.shuffle(batch)  # EventBridge and GitHub do not keep order
        for delivery in batch:
            self.deliver(delivery)
            if delivery.kind == "event" and self.rng.random() < self.config.duplicate_event_rate:
                self.later.append(delivery)  # delivered again, late

    def deliver(self, delivery: Delivery) -> None:
        self.counts[f"{delivery.kind} {delivery.action}"] += 1
        self.maybe_arm_crash(after_create=delivery.queued)
        try:
            status = send(self.world, delivery)
        except SimulatedCrash:
            self.counts[f"crashed {delivery.kind}"] += 1
            if delivery.retried_on_failure:
                self.pending.append(delivery)
        else:
            if status is not None:
                self.statuses[status] += 1
        finally:
            self.crash.disarm()
        self.events(self.fleet.sync())

    def janitor(self) -> None:
        self.maybe_arm_crash(after_create=False)
        try:
            report = run_janitor(self.world.deps())
        except SimulatedCrash:
            self.counts["crashed janitor"] += 1
        else:
            self.counts["janitor runs"] += 1
            for name, value in report.as_dict().items():
                if isinstance(value, int) and name != "active_seen":
                    self.janitor_totals[name] += value
            self.janitor_totals["errors"] += len(report.errors)
        finally:
            self.crash.disarm()
        self.events(self.fleet.sync())

    def maybe_arm_crash(self, *, after_create: bool) -> None:
        if self.faults_on and self.rng.random() < self.config.crash_rate:
            self.crash.arm(self.rng.randint(1, 14), after_create=after_create)

    # --- time -----------------------------------------------------------------------------------

    def round(self, arrivals: int) -> None:
        self.pending.extend(self.later)
        self.later = []
        self.queue_jobs(arrivals)
        self.ecs_moves_tasks()
        self.runners_take_jobs()
        self.jobs_finish()
        self.builds_finish()
        self.deliver_all()
        self.world.clock.advance(self.config.round_seconds)
        if self.world.clock.now().timestamp() >= self.next_janitor:
            self.janitor()
            self.next_janitor = self.world.clock.now().timestamp() + JANITOR_EVERY_SECONDS
        self.fleet.forget_calls()

    def stop_faults(self) -> None:
        self.faults_on = False
        self.aws.enabled = False
        self.world.github.faults.clear()

    def settled(self) -> bool:
        if self.pending or self.later or self.running or self.fleet.live():
            return False
        return not any(not r.terminal for r in runner_records(self.world).values())


def run(config: Config) -> Figures:
    """Drive ``config.jobs`` jobs through a fresh deployment under faults; returns the figures."""
    with (
        repeatable(config.seed) as sleeps,
        fresh_world(seed=config.seed, max_runners=config.max_runners) as world,
    ):
        rng = random.Random(config.seed)
        fleet = Fleet(world)
        campaign = Campaign(
            world=world,
            config=config,
            rng=rng,
            fleet=fleet,
            crash=CrashCountdown(),
            aws=RandomAwsFaults(
                world,
                rng,
                runtask_rate=config.runtask_fault_rate,
                conflict_rate=config.conflict_rate,
                lost_rate=config.lost_response_rate,
                started_unseen=fleet.started_elsewhere,
            ),
        )
        github_faults = [
            server_error(500),
            secondary_limit(retry_after=1),
            too_many_requests(retry_after=1),
            server_error(502, after_handling=True),
        ]
        world.github.faults.set_rate(config.github_fault_rate, github_faults)
        start = world.clock.now()
        with installed(world.recorder, campaign.crash, campaign.aws):
            while len(campaign.jobs) < config.jobs:
                room = config.jobs - len(campaign.jobs)
                campaign.round(min(room, rng.randint(0, config.max_arrivals_per_round)))
            injected_github = Counter(fault.kind.value for _, fault in world.github.faults.injected)
            campaign.stop_faults()
            for _ in range(SETTLE_ROUNDS):
                if campaign.settled():
                    break
                campaign.round(0)
        figures = tally(campaign, injected_github)
        figures.version_conflicts_retried = len(sleeps.slept)
        figures.simulated_seconds = (world.clock.now() - start).total_seconds()
        return figures


def tally(campaign: Campaign, injected_github: Counter[str]) -> Figures:
    world, figures = campaign.world, campaign.figures
    records = runner_records(world)
    by_job: dict[int, list[RunnerRecord]] = {}
    for record in records.values():
        by_job.setdefault(record.job_id, []).append(record)
    jobs = list(campaign.jobs.values())
    ours = [job for job in jobs if FOREIGN_LABEL not in job.labels]
    valid = [job for job in ours if REFUSED_LABEL not in job.labels]
    refused = [job for job in ours if REFUSED_LABEL in job.labels]

    figures.jobs_queued = len(jobs)
    figures.jobs_for_this_fleet = len(ours)
    figures.jobs_foreign = len(jobs) - len(ours)
    figures.jobs_refused = sum(
        1 for job in refused if any(r.status is RunnerStatus.FAILED for r in by_job.get(job.id, []))
    )
    figures.accepted = sum(1 for job in valid if by_job.get(job.id))
    launched = [r for r in records.values() if was_launched(r)]
    figures.runners_launched = len(launched)
    figures.tasks_started = campaign.fleet.started
    # A runner that FAILED before it ran a job (its launch given up, its task stopped first, a
    # timeout) leaves one job without a runner, and says why in its record.
    failed_idle = [
        r
        for r in records.values()
        if r.status is RunnerStatus.FAILED and r.run_job_id is None and r.class_name
    ]
    figures.runners_failed = len(failed_idle)
    figures.failure_reasons = dict(Counter(_reason_kind(r.status_reason) for r in failed_idle))
    figures.jobs_completed_on_github = sum(1 for job in valid if job.status == "completed")
    unserved = [job for job in valid if job.status == "queued"]
    figures.jobs_left_queued_on_github = len(unserved)
    recorded_unserved = [job for job in unserved if by_job.get(job.id)]  # the others: lost_no_record

    duplicated = duplicated_jobs(records.values())
    figures.duplicated_records = sum(1 for job in valid if job.id in duplicated)
    allowed = runners_allowed(records.values())
    running = [t for t in campaign.fleet.tasks.values() if t.reached_running]
    running_per_job = Counter(t.job_id for t in running)
    figures.duplicated_running_tasks = len(duplicates([t.runner_name for t in running])) + sum(
        1 for job_id, count in running_per_job.items() if count > allowed.get(job_id, 1)
    )
    figures.runners_replaced = sum(1 for r in records.values() if r.replaces is not None)
    figures.duplicated = figures.duplicated_records + figures.duplicated_running_tasks

    figures.lost_no_record = sum(1 for job in valid if not by_job.get(job.id))
    retired = [r for r in records.values() if r.status is RunnerStatus.OFFLINE and not was_launched(r)]
    figures.runners_retired_unlaunched = len(retired)
    figures.runners_unaccounted = sum(
        1
        for r in records.values()
        if r.class_name and not was_launched(r) and r.status is not RunnerStatus.FAILED and r not in retired
    )
    # Every valid job GitHub still holds queued must be one a FAILED runner (with its reason) left
    # without a runner; runners and jobs pair up by labels, so compare per label set.
    unexplained = 0
    for labels in {job.labels for job in recorded_unserved}:
        waiting = sum(1 for job in recorded_unserved if job.labels == labels)
        failed = sum(1 for r in failed_idle if r.labels == labels)
        unexplained += max(0, waiting - failed)
        figures.unserved_label_sets.extend([",".join(labels)] * max(0, waiting - failed))
    figures.lost_unserved_on_github = unexplained
    figures.lost = figures.lost_no_record + figures.lost_unserved_on_github

    figures.attempts_used = dict(
        sorted(Counter(launch_attempts(r) for r in records.values() if r.class_name).items())
    )
    figures.webhook_statuses = dict(sorted(campaign.statuses.items()))
    figures.deliveries = dict(sorted(campaign.counts.items()))
    faults = Counter(campaign.aws.counts.fired)
    faults.update({f"GitHub {kind}": count for kind, count in injected_github.items()})
    faults["invocations killed (SimulatedCrash)"] = campaign.crash.crashes
    figures.faults = dict(sorted(faults.items()))
    figures.janitor = dict(sorted(campaign.janitor_totals.items()))
    figures.capacity_counter_at_end = active_slots(world)
    figures.live_tasks_at_end = len(campaign.fleet.live())
    figures.active_runners_at_end = sum(1 for r in records.values() if not r.terminal)
    return figures


def _reason_kind(reason: str) -> str:
    head = reason.split(":", 1)[0]
    return head if len(head) < 60 else head[:57] + "..."
