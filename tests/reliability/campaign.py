"""The fault-injection campaign: many jobs through the real control plane and janitor under faults.

GitHub (the stand-in, its runner simulator and the repository's webhook) queues jobs and delivers
their ``workflow_job`` webhooks; ECS (:class:`~tests.reliability.fleet.Fleet`) moves the tasks the
control plane starts and sends their events; runners come online with their JIT config, GitHub gives
each online runner the oldest queued job it can run, and the job completes **only while its runner's
task is alive**: a job whose task stops mid-run ends failed on GitHub and counts as *killed*.
Meanwhile:

* GitHub answers 500, 403 secondary rate limit, 429, 422 "spammed" on generate-jitconfig and a 502
  after acting; the PAT is rotated mid-run (revoked on GitHub, replaced in Secrets Manager);
* the hook drops a share of the deliveries (GitHub records them failed; only a redelivery sends them
  again), and an invocation may die anywhere, before the record of a queued job too;
* ECS events are dropped, duplicated, reordered and late; a share of the tasks die before their
  runner takes a job (Fargate Spot interruptions, image pull failures);
* RunTask throttles, fails, reports capacity ``failures[]`` or loses its answer; DynamoDB writes
  meet version conflicts and ``TransactionConflict``; an invocation dies between taking an image
  build lock and StartBuild;
* some jobs wait for an environment approval longer than the WAITING_FOR_JOB timeout.

Then the faults stop and the run continues (the janitor on its schedule) until nothing is left to
do. A job is **lost** when GitHub still holds it queued at the end, whatever our records say; only
jobs refused for a configuration reason (here: an unknown class) may stay queued, and they are
reported apart with their reason. :class:`Figures` holds what happened and what each mechanism
caught; ``lost``, ``duplicated`` and ``killed`` must be 0.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from ecsrunner_core.domain.pools import pools_from_json
from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.janitor import run_janitor
from ecsrunner_sandbox.github_faults import Fault, FaultKind, secondary_limit, server_error, too_many_requests
from ecsrunner_sandbox.github_state import Job

from tests.lifecycle.support import JIT_OPERATIONS, REPO, SimulatedCrash, World, build_event
from tests.reliability.aws_faults import CrashCountdown, RandomAwsFaults, installed
from tests.reliability.deliveries import (
    Delivery,
    HookTarget,
    aws_event,
    connect,
    deliver_redeliveries,
    send,
    webhook,
)
from tests.reliability.determinism import repeatable
from tests.reliability.fleet import Fleet, SimTask
from tests.reliability.observe import (
    active_slots,
    duplicated_jobs,
    launch_attempts,
    live_idle_per_job,
    runner_records,
    was_launched,
)
from tests.reliability.worlds import fresh_world, push_image_once

UNBUILT_IMAGE = "ubuntu:24.04"
REFUSED_LABEL = "class:nope"
FOREIGN_LABEL = "ubuntu-latest"
OUTAGE_LABELS = ("self-hosted", "x64")
ROTATED_PAT = "ghp_rotatedDuringTheCampaign000000000000"
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
WARM_UP_ROUNDS = 6
JANITOR_EVERY_SECONDS = 300  # rate(5 minutes), the module's default
SETTLE_ROUNDS = 600
SPAMMED = Fault(FaultKind.SERVER_ERROR, 422)  # generate-jitconfig: "Validation failed, or ... spammed"


@dataclass(frozen=True)
class Config:
    jobs: int = 100
    seed: int = 20261123
    github_fault_rate: float = 0.30  # spread evenly over 500, 403 secondary limit, 429, 422, a late 502
    runtask_fault_rate: float = 0.15
    lost_response_rate: float = 0.02
    conflict_rate: float = 0.10
    crash_rate: float = 0.05  # of invocations (webhooks, events, janitor runs), anywhere in them
    crash_first_build: bool = True  # the first StartBuild: the invocation dies holding the build lock
    webhook_redelivery: bool = True  # the janitor knows the hook (else reconciliation alone)
    dropped_webhook_rate: float = 0.05
    dropped_event_rate: float = 0.05
    redelivery_rate: float = 0.10
    duplicate_event_rate: float = 0.10
    task_death_rate: float = 0.12  # tasks that die before their runner takes a job
    approval_rate: float = 0.04  # jobs behind an environment approval
    approval_seconds: tuple[int, int] = (2400, 5400)  # longer than the WAITING_FOR_JOB timeout
    rotate_credentials_at: float = 0.5  # share of the jobs queued when the PAT is rotated
    outage_jobs: int = 3  # the last jobs arrive while the webhook endpoint is down
    max_arrivals_per_round: int = 6
    round_seconds: int = 20
    max_runners: int = 25
    job_mix: tuple[tuple[tuple[str, ...], float], ...] = JOB_MIX
    warm_pools: str = ""  # WARM_POOLS JSON: the pools run, and are removed when the faults stop


@dataclass
class Figures:
    jobs_queued: int = 0
    jobs_for_this_fleet: int = 0
    jobs_with_refused_labels: int = 0  # an unknown class
    jobs_refused: int = 0  # refused for a configuration reason (unknown class): may stay queued
    refused_reasons: dict[str, int] = field(default_factory=dict)
    jobs_foreign: int = 0  # another fleet's labels: ignored
    jobs_behind_approval: int = 0
    accepted: int = 0  # valid jobs with a runner record
    runners_launched: int = 0  # runners a task was started for
    tasks_started: int = 0
    runners_failed: int = 0  # FAILED before running a job, with the reason in the record
    jobs_completed_on_github: int = 0
    jobs_left_queued_on_github: int = 0
    lost: int = 0  # valid jobs GitHub still holds queued at the end
    lost_jobs: list[int] = field(default_factory=list)
    refused_valid_jobs: int = 0  # valid jobs refused anyway: must be 0
    duplicated: int = 0
    duplicated_records: int = 0  # a job's runners not forming one chain of successors
    duplicated_live: int = 0  # two live idle runners for one job at once (checked each janitor run)
    killed: int = 0  # jobs whose runner's task stopped while they ran (not by the TTL)
    unrelaunched_deaths: int = 0  # a runner died before its still-queued job and nothing replaced it
    ttl_kills: int = 0
    runners_replaced: int = 0
    warm_runners: int = 0
    warm_claims: int = 0
    warm_runners_claimed_twice: int = 0
    runners_unaccounted: int = 0  # neither launched, nor ended with a reason: must be 0
    caught: dict[str, int] = field(default_factory=dict)  # mechanism -> what it caught
    attempts_used: dict[int, int] = field(default_factory=dict)
    failure_reasons: dict[str, int] = field(default_factory=dict)
    webhook_statuses: dict[str, int] = field(default_factory=dict)
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
    target: HookTarget
    jobs: dict[int, Job] = field(default_factory=dict)
    running: dict[int, SimTask] = field(default_factory=dict)  # job id -> task running it
    pending: list[Delivery] = field(default_factory=list)
    later: list[Delivery] = field(default_factory=list)
    approvals: dict[int, float] = field(default_factory=dict)  # job id -> when a reviewer approves
    doomed: dict[str, str] = field(default_factory=dict)  # task ARN -> how it dies before its job
    judged: set[str] = field(default_factory=set)
    figures: Figures = field(default_factory=Figures)
    statuses: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    janitor_totals: Counter[str] = field(default_factory=Counter)
    faults_on: bool = True
    rotated: bool = False
    next_janitor: float = 0.0
    duplicated_live_jobs: set[int] = field(default_factory=set)
    outage: set[int] = field(default_factory=set)  # jobs queued while the webhook endpoint was down

    @property
    def now(self) -> float:
        return self.world.clock.now().timestamp()

    # --- GitHub -------------------------------------------------------------------------------

    def queue_jobs(self, count: int) -> None:
        labels_pool = [labels for labels, _ in self.config.job_mix]
        weights = [share for _, share in self.config.job_mix]
        for _ in range(count):
            labels = self.rng.choices(labels_pool, weights)[0]
            outage = len(self.jobs) >= self.config.jobs - self.config.outage_jobs
            if outage:  # labels no other job has: only their own runners can take them
                labels = OUTAGE_LABELS
            approval = self.faults_on and not outage and self.rng.random() < self.config.approval_rate
            job = self.world.sim.queue_job(REPO, labels, awaiting_approval=approval)
            self.jobs[job.id] = job
            if outage:
                self.outage.add(job.id)
            self.send_webhook(job, "queued")
            if approval:
                self.send_webhook(job, "waiting")
                low, high = self.config.approval_seconds
                self.approvals[job.id] = self.now + self.rng.randint(low, high)
                self.counts["jobs behind an approval"] += 1
            elif self.rng.random() < self.config.redelivery_rate:
                self.later.append(webhook(self.world.sim.payload(job, "queued"), "queued"))
        self.maybe_rotate_credentials()

    def reviewers_approve(self, everything: bool = False) -> None:
        for job_id, when in list(self.approvals.items()):
            if everything or self.now >= when:
                del self.approvals[job_id]
                self.world.sim.approve(self.jobs[job_id])
                self.send_webhook(self.jobs[job_id], "queued")

    def maybe_rotate_credentials(self) -> None:
        """The PAT is rotated (the usual answer to a leak): GitHub revokes the old one at once."""
        if self.rotated or len(self.jobs) < self.config.jobs * self.config.rotate_credentials_at:
            return
        self.rotated = True
        self.world.github.pat = ROTATED_PAT
        self.world.client("secretsmanager").put_secret_value(
            SecretId=self.world.settings.github_credentials_secret_arn,
            SecretString=json.dumps({"type": "pat", "token": ROTATED_PAT}),
        )
        self.counts["credential rotations"] += 1

    def send_webhook(self, job: Job, action: str) -> None:
        self.pending.append(webhook(self.world.sim.payload(job, action), action))

    def runners_take_jobs(self) -> None:
        online = self.fleet.online()
        self.rng.shuffle(online)
        for task in online:
            assert task.github_runner_id is not None
            if any(t is task for t in self.running.values()) or task.arn in self.doomed:
                continue
            job = self.world.sim.assign_job(task.github_runner_id)
            if job is not None:
                self.running[job.id] = task
                self.send_webhook(job, "in_progress")

    def jobs_finish(self) -> None:
        """A job completes only while its runner's task is alive; a task stopped under it fails it."""
        for job_id, task in list(self.running.items()):
            if task.stopped:
                del self.running[job_id]
                record = self.world.record(task.runner_name)
                if "TTL" in record.status_reason:
                    self.figures.ttl_kills += 1
                else:
                    self.figures.killed += 1
                job = self.world.sim.complete_job(job_id, "failure")
                self.send_webhook(job, "completed")
            elif self.rng.random() < 0.5:
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
            if task.arn not in self.judged:
                self.judged.add(task.arn)
                if self.faults_on and self.rng.random() < self.config.task_death_rate:
                    self.doomed[task.arn] = self.rng.choice(("pull", "spot"))
            fate = self.doomed.get(task.arn)
            if fate == "pull" and task.status == "PENDING":
                self.counts["tasks: image pull failed"] += 1
                self.events(self.fleet.pull_fails(task))
            elif fate == "spot" and task.status == "RUNNING" and not self.busy(task):
                self.counts["tasks: Spot interruption before the job"] += 1
                self.events(self.fleet.interrupted(task))
            elif self.rng.random() < 0.6:
                self.events(self.fleet.advance(task))

    def busy(self, task: SimTask) -> bool:
        return any(t is task for t in self.running.values())

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
            if (
                delivery.kind == "event"
                and self.faults_on
                and self.rng.random() < self.config.dropped_event_rate
            ):
                self.counts["ECS/CodeBuild events dropped"] += 1
                continue
            self.deliver(delivery)
            if delivery.kind == "event" and self.rng.random() < self.config.duplicate_event_rate:
                self.later.append(delivery)  # delivered again, late

    def deliver(self, delivery: Delivery) -> None:
        self.counts[f"{delivery.kind} {delivery.action}"] += 1
        if delivery.queued and delivery.payload["workflow_job"]["id"] in self.outage:
            self.world.github.hooks.hooks[0].drop_next()  # the endpoint is down for these
        self.maybe_arm_crash()
        crashed = False
        try:
            status = send(self.world, delivery, self.target)
        except SimulatedCrash:
            crashed = True
            self.counts[f"crashed {delivery.kind}{' ' + delivery.action if delivery.queued else ''}"] += 1
            if delivery.retried_on_failure:
                self.pending.append(delivery)
        else:
            if delivery.kind == "webhook":
                self.statuses[str(status) if status is not None else "dropped"] += 1
        finally:
            self.crash.disarm()
        if not crashed and delivery.kind == "event" and delivery.action == "STOPPED":
            self.check_relaunched(delivery)
        self.events(self.fleet.sync())

    def check_relaunched(self, delivery: Delivery) -> None:
        """The rule, at the moment a runner's death is reported: if it had not taken its job and
        GitHub still holds that job queued, the job has a live runner (or one on its way)."""
        name = delivery.payload["detail"].get("startedBy") or ""
        record = self.world.store().get(name)
        if record is None or record.took_job or record.refusal or not record.terminal:
            return
        job = self.jobs.get(record.job_id)
        if job is None or job.status != "queued":
            return
        current = self.world.record_for_job(record.job_id)
        if current is None or current.terminal:
            self.figures.unrelaunched_deaths += 1

    def janitor(self) -> None:
        self.maybe_arm_crash()
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
        deliver_redeliveries(self.world, self.target)
        self.events(self.fleet.sync())
        self.check_no_two_live_runners_per_job()

    def check_no_two_live_runners_per_job(self) -> None:
        for job_id, count in live_idle_per_job(runner_records(self.world).values()).items():
            if count > 1:
                self.duplicated_live_jobs.add(job_id)

    def maybe_arm_crash(self) -> None:
        if self.faults_on and self.rng.random() < self.config.crash_rate:
            self.crash.arm(self.rng.randint(1, 14))

    # --- time -----------------------------------------------------------------------------------

    def round(self, arrivals: int) -> None:
        self.pending.extend(self.later)
        self.later = []
        self.queue_jobs(arrivals)
        self.reviewers_approve()
        self.ecs_moves_tasks()
        self.runners_take_jobs()
        self.jobs_finish()
        self.builds_finish()
        self.deliver_all()
        self.world.clock.advance(self.config.round_seconds)
        if self.now >= self.next_janitor:
            self.janitor()
            self.next_janitor = self.now + JANITOR_EVERY_SECONDS
        self.fleet.forget_calls()

    def stop_faults(self) -> None:
        if self.world.settings.warm_pools:
            self.world.configure(warm_pools=())  # the janitor retires the pools' idle runners
        self.faults_on = False
        self.aws.enabled = False
        self.world.github.faults.clear()
        self.world.github.hooks.set_drop_rate(0.0)
        self.reviewers_approve(everything=True)

    def settled(self) -> bool:
        if self.pending or self.later or self.running or self.fleet.live() or self.approvals:
            return False
        if any(
            job.status == "queued" and self.valid(job) and not self.refused(job) for job in self.jobs.values()
        ):
            return False
        return not any(not r.terminal for r in runner_records(self.world).values())

    @staticmethod
    def valid(job: Job) -> bool:
        return FOREIGN_LABEL not in job.labels and REFUSED_LABEL not in job.labels

    def refused(self, job: Job) -> bool:
        record = self.world.record_for_job(job.id)
        return record is not None and record.refusal is not None


def run(config: Config) -> Figures:
    """Drive ``config.jobs`` jobs through a fresh deployment under faults; returns the figures."""
    with (
        repeatable(config.seed) as sleeps,
        fresh_world(
            seed=config.seed, max_runners=config.max_runners, warm_pools=pools_from_json(config.warm_pools)
        ) as world,
    ):
        rng = random.Random(config.seed)
        fleet = Fleet(world)
        world.use_secret_credentials()
        target = connect(world)
        if not config.webhook_redelivery:
            world.configure(webhook_hook_id=None)
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
                crash_first_builds=1 if config.crash_first_build else 0,
                started_unseen=fleet.started_elsewhere,
            ),
            target=target,
        )
        github_faults = [
            server_error(500),
            secondary_limit(retry_after=1),
            too_many_requests(retry_after=1),
            server_error(502, after_handling=True),
        ]
        world.github.faults.set_rate(config.github_fault_rate, github_faults)
        # generate-jitconfig also answers 422 "the endpoint has been spammed" (a script: it takes
        # precedence over the rate for those operations).
        jit_faults = [*github_faults, SPAMMED]
        world.github.faults.script(
            *(
                rng.choice(jit_faults) if rng.random() < config.github_fault_rate else None
                for _ in range(20_000)
            ),
            operations=JIT_OPERATIONS,
        )
        world.github.hooks.set_drop_rate(config.dropped_webhook_rate)
        world.github.hooks.defer_redeliveries = True
        start = world.clock.now()
        with installed(world.recorder, campaign.crash, campaign.aws):
            if config.warm_pools:  # deployed before the first job: the schedule fills the pools
                campaign.janitor()
                for _ in range(WARM_UP_ROUNDS):
                    campaign.round(0)
            while len(campaign.jobs) < config.jobs:
                room = config.jobs - len(campaign.jobs)
                campaign.round(min(room, rng.randint(0, config.max_arrivals_per_round)))
            injected_github = Counter(fault.kind.value for _, fault in world.github.faults.injected)
            injected_github["422 on generate-jitconfig"] = sum(
                1 for _, fault in world.github.faults.injected if fault.status == 422
            )
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
    figures.jobs_behind_approval = campaign.counts["jobs behind an approval"]
    guards = {job.id: world.record_for_job(job.id) for job in ours}
    figures.jobs_with_refused_labels = len(refused)
    figures.jobs_refused = sum(1 for job in refused if (g := guards[job.id]) is not None and g.refusal)
    figures.refused_reasons = dict(
        Counter(_reason_kind(g.status_reason) for job in refused if (g := guards[job.id]) is not None)
    )
    figures.accepted = sum(1 for job in valid if by_job.get(job.id))
    launched = [r for r in records.values() if was_launched(r)]
    figures.runners_launched = len(launched)
    figures.tasks_started = campaign.fleet.started
    failed_idle = [
        r for r in records.values() if r.status is RunnerStatus.FAILED and not r.took_job and r.class_name
    ]
    figures.runners_failed = len(failed_idle)
    figures.failure_reasons = dict(Counter(_reason_kind(r.status_reason) for r in failed_idle))
    figures.jobs_completed_on_github = sum(1 for job in valid if job.status == "completed")
    still_queued = [job for job in valid if job.status == "queued"]
    figures.jobs_left_queued_on_github = len(still_queued)
    figures.refused_valid_jobs = sum(
        1 for job in valid if (g := guards[job.id]) is not None and g.refusal is not None
    )
    # Lost: GitHub still holds it queued, whatever our records say.
    figures.lost_jobs = sorted(job.id for job in still_queued)
    figures.lost = len(still_queued)

    figures.duplicated_records = len(duplicated_jobs(records.values()))
    figures.duplicated_live = len(campaign.duplicated_live_jobs)
    figures.duplicated = figures.duplicated_records + figures.duplicated_live
    figures.runners_replaced = sum(1 for r in records.values() if r.replaces is not None)
    warm = [r for r in records.values() if r.pool]
    figures.warm_runners = len(warm)
    figures.warm_claims = sum(1 for r in warm if r.job_id)
    claims = Counter(g.runner_name for g in guards.values() if g is not None and g.pool)
    figures.warm_runners_claimed_twice = sum(1 for count in claims.values() if count > 1)
    figures.runners_unaccounted = sum(
        1 for r in records.values() if r.class_name and not was_launched(r) and not r.terminal
    )
    metrics = world.metrics
    figures.caught = {
        "relaunches after a task died before its job (RunnersRelaunched)": metrics.total("RunnersRelaunched"),
        "replacements after a runner took another job (RunnersReplaced)": metrics.total("RunnersReplaced"),
        "queued jobs found on GitHub (JobsReconciled)": metrics.total("JobsReconciled"),
        "failed deliveries redelivered (WebhooksRedelivered)": metrics.total("WebhooksRedelivered"),
        "lost STOPPED events applied by the janitor (TasksReconciled)": metrics.total("TasksReconciled"),
        "build locks taken over (ImageBuildLocksRecovered)": metrics.total("ImageBuildLocksRecovered"),
        "credentials read again after a 401 (CredentialsReloaded)": metrics.total(
            "CredentialsReloaded", secret="github"
        ),
        "busy runners kept by a timeout (RunnersFoundBusy)": metrics.total("RunnersFoundBusy"),
        "approvals waited out without a task (JobsWaitingForApproval)": metrics.total(
            "JobsWaitingForApproval"
        ),
    }
    figures.attempts_used = dict(
        sorted(Counter(launch_attempts(r) for r in records.values() if r.class_name).items())
    )
    figures.webhook_statuses = dict(sorted(campaign.statuses.items()))
    figures.deliveries = dict(sorted(campaign.counts.items()))
    faults = Counter(campaign.aws.counts.fired)
    faults.update({f"GitHub {kind}": count for kind, count in injected_github.items()})
    faults["invocations killed (SimulatedCrash)"] = campaign.crash.crashes
    faults["webhooks dropped (GitHub recorded them failed)"] = sum(
        1 for d in world.github.hooks.deliveries if d.dropped and not d.redelivery
    )
    faults["ECS/CodeBuild events dropped"] = campaign.counts["ECS/CodeBuild events dropped"]
    faults["tasks that died before their job"] = len(campaign.doomed)
    faults["credential rotations"] = campaign.counts["credential rotations"]
    figures.faults = dict(sorted(faults.items()))
    figures.janitor = dict(sorted(campaign.janitor_totals.items()))
    figures.capacity_counter_at_end = active_slots(world)
    figures.live_tasks_at_end = len(campaign.fleet.live())
    figures.active_runners_at_end = sum(1 for r in records.values() if not r.terminal)
    return figures


def _reason_kind(reason: str) -> str:
    head = reason.split(":", 1)[0]
    return head if len(head) < 60 else head[:57] + "..."
