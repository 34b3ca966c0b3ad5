"""A model-based test of the whole control plane: random interleavings of everything the outside
world sends, checked after every step against DynamoDB and moto's ECS.

Each example gets a fresh deployment (:func:`~tests.reliability.worlds.fresh_world`): the real store,
the real handlers' routing, the real GitHub client against the stand-in, on a FakeClock. The GitHub
side (jobs, approvals, runners coming online and taking the oldest job they can run, the repository
webhook that records every delivery) is the stand-in; ECS is :class:`~tests.reliability.fleet.Fleet`.
Webhooks and events wait in ``pending`` until a rule delivers (or drops) one of them, in any order;
delivered ones can be replayed (duplicates, late events). An invocation may carry one fault, for
that invocation only, a crash anywhere in it included.

Invariants (after every step):

* a job's runner records form one chain of successors, the newest behind its job guard; at most
  one live idle runner per job; at most one live task per runner; the capacity counter equals the
  runners holding a slot;
* statuses move only along ``TRANSITIONS`` (history notes keep the status); terminal records never
  change status or reason;
* an acknowledged queued job with valid labels has a record; refused labels give FAILED with the
  reason; another fleet's labels give nothing;
* when a STOPPED event reports (without a fault) a runner that died before taking its job and
  GitHub still holds that job queued, the job has a live runner at once (relaunch);
* after a janitor run: no live task of ours without an active record, no task past its TTL, and no
  task stopped whose runner GitHub reported busy (unless the TTL passed).

At the end (teardown) the faults stop and the world drains (deliveries and redeliveries, builds,
approvals, jobs run, the janitor on a schedule); then no valid job is still queued on GitHub unless
its refusal says why (a failed image build, or the relaunch budget spent on real deaths), and no
job was killed: a job completes only while its runner's task is alive.
"""

from __future__ import annotations

import json
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise
from typing import Any

from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.domain.status import TRANSITIONS, RunnerStatus
from ecsrunner_core.usecases.janitor import run_janitor
from ecsrunner_sandbox.github_faults import secondary_limit, server_error, too_many_requests
from ecsrunner_sandbox.github_state import Job
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.lifecycle.support import (
    JIT_OPERATIONS,
    REPO,
    Fault,
    SimulatedCrash,
    World,
    build_event,
    client_error,
    crash,
)
from tests.reliability import aws_faults
from tests.reliability.campaign import SPAMMED
from tests.reliability.deliveries import Delivery, aws_event, connect, send, webhook
from tests.reliability.determinism import repeatable
from tests.reliability.fleet import Fleet, SimTask
from tests.reliability.observe import (
    active_slots,
    duplicated_jobs,
    duplicates,
    live_idle_per_job,
    raw_items,
    runner_records,
    was_launched,
)
from tests.reliability.scale import SEED
from tests.reliability.worlds import fresh_world, push_image_once

UNBUILT_IMAGE = "ubuntu:24.04"
LABELS = {
    "plain": ("self-hosted", "linux"),
    "large": ("self-hosted", "class:large"),
    "large-linux": ("self-hosted", "linux", "class:large"),  # covers "plain": runners swap jobs
    "image": ("self-hosted", f"image:{UNBUILT_IMAGE}"),
    "refused": ("self-hosted", "class:nope"),
    "foreign": ("ubuntu-latest",),
}
VALID_KINDS = frozenset({"plain", "large", "large-linux", "image"})
CLOCK_STEPS = (0, 30, 301, 601, 901, 1801, 3601, 7201)
AWS_FAULTS = (
    "RunTask ThrottlingException",
    "RunTask ServerException",
    "RunTask failures[] capacity",
    "RunTask response lost",
    "StopTask ServerException",
    "DynamoDB version conflict",
    "DynamoDB TransactionConflict",
    "S3 PutObject InternalError",
)
GITHUB_FAULTS = (
    "GitHub 500",
    "GitHub secondary rate limit",
    "GitHub 429",
    "GitHub 502 after acting",
    "GitHub 422 on generate-jitconfig",
)
FAULTS = (
    AWS_FAULTS
    + GITHUB_FAULTS
    + ("crash between the build lock and StartBuild",)
    + tuple(f"crash before AWS call {n}" for n in (1, 2, 3, 5, 8, 12))
)
ROTATED_PAT = "ghp_rotatedByTheModel00000000000000000000"
# Most invocations run without a fault; the rest with one fault, for that invocation only.
FAULT = st.one_of(st.none(), st.none(), st.sampled_from(FAULTS))
SETTLE_ROUNDS = 24
PICK = st.integers(min_value=0, max_value=1_000)


@dataclass
class ModelJob:
    job: Job
    kind: str
    acknowledged: bool = False  # a queued delivery was answered 2xx

    @property
    def valid(self) -> bool:
        return self.kind in VALID_KINDS


@dataclass
class Tally:
    """What the runs did, for the report."""

    examples: int = 0
    steps: int = 0
    rules: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)


TALLY = Tally()


class ControlPlaneModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        TALLY.examples += 1
        self._exit = ExitStack()
        # One seed for every example: what an example does depends only on hypothesis' data, so a
        # failing example replays (and shrinks) exactly. (Seeding by the example's number made
        # every replay draw other runner names, so failures were reported as flaky.)
        self._exit.enter_context(repeatable(seed=SEED))
        self.world: World = self._exit.enter_context(fresh_world(max_runners=4))
        self.world.use_secret_credentials()
        self.target = connect(self.world)
        self.world.github.hooks.defer_redeliveries = True
        self.fleet = Fleet(self.world)
        self.crash = aws_faults.CrashCountdown()
        self.crash.install(self.world.recorder)
        self.jobs: list[ModelJob] = []
        self.pending: list[Delivery] = []
        self.delivered: list[Delivery] = []
        self.seen: dict[str, RunnerRecord] = {}
        self.running_tasks: dict[int, SimTask] = {}  # job id -> the task that took it
        self.killed: list[int] = []

    # --- helpers ------------------------------------------------------------------------------

    def _note(self, rule_name: str) -> None:
        TALLY.steps += 1
        TALLY.rules[rule_name] += 1

    @staticmethod
    def _pick(items: list[Any], index: int) -> Any:
        return items[index % len(items)]

    def _model_job(self, job_id: int) -> ModelJob | None:
        return next((m for m in self.jobs if m.job.id == job_id), None)

    def _invoke(self, delivery: Delivery, fault: str | None = None, *, drop: bool = False) -> None:
        """One invocation of the control plane, with ``fault``; a dead invocation loses a webhook
        (GitHub records the delivery failed) and is retried for an event."""
        if drop:
            self.world.github.hooks.hooks[0].drop_next()
        crashed = False
        live_before = self._stopped_runner_live(delivery)
        with self._fault(fault):
            try:
                status = send(self.world, delivery, self.target)
            except SimulatedCrash:
                crashed = True
                TALLY.outcomes[f"crashed {delivery.kind}"] += 1
                if delivery.retried_on_failure:
                    self.pending.append(delivery)
                status = None
        if status is not None:
            TALLY.outcomes[f"{delivery.kind} {delivery.action} -> {status}"] += 1
            assert status < 500, f"{delivery.action} answered {status}"
            # A job queued behind an approval (status waiting) gets its record when approved.
            queued_for_real = delivery.payload.get("workflow_job", {}).get("status") == "queued"
            if delivery.queued and queued_for_real and 200 <= status < 300:
                model_job = self._model_job(delivery.payload["workflow_job"]["id"])
                if model_job is not None:
                    model_job.acknowledged = True
        elif drop:
            TALLY.outcomes[f"dropped {delivery.kind} {delivery.action}"] += 1
        if not crashed and fault is None and live_before:
            self._check_relaunched(delivery)
        self._absorb(self.fleet.sync())

    def _stopped_runner_live(self, delivery: Delivery) -> bool:
        """Whether ``delivery`` is a STOPPED event for a runner our records still hold live: the
        event that reports its death (not a late copy after the janitor or an earlier copy ended it)."""
        if delivery.kind != "event" or delivery.action != "STOPPED":
            return False
        record = self.world.store().get(delivery.payload["detail"].get("startedBy") or "")
        return record is not None and not record.terminal

    def _check_relaunched(self, delivery: Delivery) -> None:
        """A runner that died before its job, while GitHub holds that job queued: the event that
        reports the death gives the job a live runner at once (a relaunch), unless its refusal says
        why not. (A runner a late event finds already ended is the janitor's: see ``_settle``.)"""
        record = self.world.store().get(delivery.payload["detail"].get("startedBy") or "")
        if record is None or not record.terminal or record.took_job or record.refusal:
            return
        job = self.world.github.state.jobs.get(record.job_id)
        if job is None or job.status != "queued":
            return
        current = self.world.record_for_job(record.job_id)
        assert current is not None
        assert not current.terminal or current.refusal, (
            f"job {record.job_id} queued on GitHub; its runner {record.runner_name} died "
            f"({record.status_reason}) and no runner replaced it"
        )

    def _absorb(self, events: list[dict[str, Any]]) -> None:
        self.pending.extend(aws_event(event) for event in events)

    def _fault(self, fault: str | None) -> ExitStack:
        """Install ``fault`` for one invocation (removed afterwards, fired or not)."""
        stack = ExitStack()
        if fault is None:
            return stack
        TALLY.outcomes[f"armed {fault}"] += 1
        recorder, github = self.world.recorder, self.world.github
        if fault.startswith("crash before AWS call"):
            self.crash.arm(int(fault.rsplit(" ", 1)[1]))
            stack.callback(self.crash.disarm)
            return stack
        if fault in GITHUB_FAULTS:
            chosen = {
                "GitHub 500": server_error(500),
                "GitHub secondary rate limit": secondary_limit(retry_after=1),
                "GitHub 429": too_many_requests(retry_after=1),
                "GitHub 502 after acting": server_error(502, after_handling=True),
                "GitHub 422 on generate-jitconfig": SPAMMED,
            }[fault]
            operations = JIT_OPERATIONS if chosen is SPAMMED else None
            github.faults.script(chosen, chosen, chosen, operations=operations)
            stack.callback(github.faults.clear)
            return stack
        added = self._aws_fault(fault)
        recorder.faults.append(added)
        stack.callback(recorder.faults.remove, added)
        return stack

    def _aws_fault(self, fault: str) -> Fault:
        world = self.world
        if fault == "RunTask ThrottlingException":
            return Fault("ecs.RunTask", aws_faults.runtask_throttled)
        if fault == "RunTask ServerException":
            return Fault("ecs.RunTask", aws_faults.runtask_server_error)
        if fault == "RunTask failures[] capacity":
            return Fault("ecs.RunTask", aws_faults.runtask_capacity_failure)
        if fault == "RunTask response lost":
            return Fault("ecs.RunTask", aws_faults.lose_runtask_answer(world, self.fleet.started_elsewhere))
        if fault == "StopTask ServerException":
            return Fault("ecs.StopTask", client_error("ServerException", "Service Unavailable.", 500))
        if fault == "DynamoDB version conflict":
            return Fault("dynamodb.PutItem", aws_faults.write_first(world), when=aws_faults.is_versioned_put)
        if fault == "DynamoDB TransactionConflict":
            return Fault("dynamodb.TransactWriteItems", aws_faults.transaction_conflict)
        if fault == "crash between the build lock and StartBuild":
            return Fault("codebuild.StartBuild", crash)
        assert fault == "S3 PutObject InternalError", fault
        return Fault("s3.PutObject", client_error("InternalError", "We encountered an internal error.", 500))

    # --- GitHub -------------------------------------------------------------------------------

    @rule(kind=st.sampled_from(sorted(LABELS)), fault=FAULT)
    def queue_job(self, kind: str, fault: str | None) -> None:
        self._note("queue_job")
        job = self.world.sim.queue_job(REPO, LABELS[kind])
        self.jobs.append(ModelJob(job, kind))
        self._invoke(webhook(self.world.sim.payload(job, "queued"), "queued"), fault)

    @rule(kind=st.sampled_from(sorted(VALID_KINDS)))
    def queue_job_behind_an_approval(self, kind: str) -> None:
        """A job behind an environment's protection rule: queued (status waiting), then waiting."""
        self._note("queue_job_behind_an_approval")
        job = self.world.sim.queue_job(REPO, LABELS[kind], awaiting_approval=True)
        self.jobs.append(ModelJob(job, kind))
        self.pending.append(webhook(self.world.sim.payload(job, "queued"), "queued"))
        self.pending.append(webhook(self.world.sim.payload(job, "waiting"), "waiting"))

    @precondition(lambda self: any(m.job.status == "waiting" for m in self.jobs))
    @rule(pick=PICK, seconds=st.sampled_from((60, 1801, 3601)))
    def reviewer_approves(self, pick: int, seconds: int) -> None:
        """Approved, often after longer than the WAITING_FOR_JOB timeout: queued for real."""
        self._note("reviewer_approves")
        self.world.clock.advance(seconds)
        model_job = self._pick([m for m in self.jobs if m.job.status == "waiting"], pick)
        self.world.sim.approve(model_job.job)
        self.pending.append(webhook(self.world.sim.payload(model_job.job, "queued"), "queued"))

    @precondition(lambda self: self.jobs)
    @rule(pick=PICK, fault=FAULT)
    def redeliver_queued(self, pick: int, fault: str | None) -> None:
        self._note("redeliver_queued")
        model_job = self._pick(self.jobs, pick)
        if model_job.job.status == "queued":
            self._invoke(webhook(self.world.sim.payload(model_job.job, "queued"), "queued"), fault)

    @rule()
    def credentials_rotated(self) -> None:
        """The PAT is rotated: GitHub revokes the old one at once, Secrets Manager holds the new."""
        self._note("credentials_rotated")
        token = f"{ROTATED_PAT[:-4]}{TALLY.steps % 10_000:04d}"
        self.world.github.pat = token
        self.world.client("secretsmanager").put_secret_value(
            SecretId=self.world.settings.github_credentials_secret_arn,
            SecretString=json.dumps({"type": "pat", "token": token}),
        )

    @precondition(lambda self: self._idle_online())
    @rule(pick=PICK, deliver_now=st.booleans())
    def runner_takes_job(self, pick: int, deliver_now: bool) -> None:
        """GitHub gives an online idle runner the oldest queued job it can run (often not its own)."""
        self._note("runner_takes_job")
        self._take_job(self._pick(self._idle_online(), pick), deliver_now)

    def _take_job(self, task: SimTask, deliver_now: bool) -> None:
        job = self.world.sim.assign_job(task.github_runner_id)
        if job is None:
            return
        self.running_tasks[job.id] = task
        delivery = webhook(self.world.sim.payload(job, "in_progress"), "in_progress")
        if deliver_now:
            self._invoke(delivery)
        else:
            self.pending.append(delivery)

    @precondition(lambda self: self._running_jobs())
    @rule(pick=PICK, succeeded=st.booleans())
    def job_completes(self, pick: int, succeeded: bool) -> None:
        """The job ends; its ephemeral runner deregisters and exits, and ECS stops the task."""
        self._note("job_completes")
        self._complete(*self._pick(self._running_jobs(), pick), succeeded=succeeded)

    def _complete(self, job: Job, task: SimTask | None, *, succeeded: bool) -> None:
        """A job completes only while its runner's task is alive: a task stopped under it fails it."""
        if task is None or task.stopped:
            self.killed.append(job.id)
            succeeded = False
        self.world.sim.complete_job(job.id, "success" if succeeded else "failure")
        self.pending.append(webhook(self.world.sim.payload(job, "completed"), "completed"))
        if task is not None:
            self._absorb(self.fleet.runner_exits(task))

    @precondition(lambda self: any(m.job.status == "queued" for m in self.jobs))
    @rule(pick=PICK)
    def job_cancelled(self, pick: int) -> None:
        """Cancelled before any runner took it: ``completed`` with no runner."""
        self._note("job_cancelled")
        model_job = self._pick([m for m in self.jobs if m.job.status == "queued"], pick)
        self.world.sim.complete_job(model_job.job.id, "cancelled")
        self.pending.append(webhook(self.world.sim.payload(model_job.job, "completed"), "completed"))

    # --- ECS and CodeBuild --------------------------------------------------------------------

    @precondition(lambda self: self.fleet.live())
    @rule(pick=PICK, steps=st.integers(min_value=1, max_value=2))
    def ecs_moves_task(self, pick: int, steps: int) -> None:
        self._note("ecs_moves_task")
        task = self._pick(self.fleet.live(), pick)
        for _ in range(steps):
            self._absorb(self.fleet.advance(task))

    @precondition(lambda self: [t for t in self.fleet.live() if not self._busy(t)])
    @rule(pick=PICK)
    def task_interrupted(self, pick: int) -> None:
        """Fargate Spot reclaims a task (or its host fails) before its runner took a job."""
        self._note("task_interrupted")
        self._absorb(
            self.fleet.interrupted(self._pick([t for t in self.fleet.live() if not self._busy(t)], pick))
        )

    @precondition(lambda self: [t for t in self.fleet.live() if not t.reached_running])
    @rule(pick=PICK)
    def image_pull_fails(self, pick: int) -> None:
        self._note("image_pull_fails")
        self._absorb(
            self.fleet.pull_fails(self._pick([t for t in self.fleet.live() if not t.reached_running], pick))
        )

    @precondition(lambda self: self._building())
    @rule(succeeded=st.booleans())
    def build_finishes(self, succeeded: bool) -> None:
        self._note("build_finishes")
        for build_id in self._building():
            if succeeded:
                push_image_once(self.world, UNBUILT_IMAGE)
            event = build_event(
                build_arn=self.world.build_arn(build_id),
                project=self.world.settings.codebuild_project_name,
                status="SUCCEEDED" if succeeded else "FAILED",
            )
            self.pending.append(aws_event(event))

    # --- deliveries ---------------------------------------------------------------------------

    @precondition(lambda self: self.pending)
    @rule(pick=PICK, twice=st.booleans(), fault=FAULT)
    def deliver(self, pick: int, twice: bool, fault: str | None) -> None:
        """Deliver any pending webhook or event (so in any order), sometimes twice in a row."""
        self._note("deliver")
        delivery = self.pending.pop(pick % len(self.pending))
        self._invoke(delivery, fault)
        self.delivered.append(delivery)
        if twice:
            self._invoke(delivery)

    @precondition(lambda self: self.pending)
    @rule(pick=PICK)
    def delivery_lost(self, pick: int) -> None:
        """A webhook GitHub could not deliver (it records it failed), or an event that never comes."""
        self._note("delivery_lost")
        delivery = self.pending.pop(pick % len(self.pending))
        if delivery.kind == "webhook":
            self._invoke(delivery, drop=True)
        else:
            TALLY.outcomes[f"dropped event {delivery.action}"] += 1

    @precondition(lambda self: self.delivered)
    @rule(pick=PICK, fault=FAULT)
    def replay_delivered(self, pick: int, fault: str | None) -> None:
        """An earlier webhook or event again, late (EventBridge is at-least-once; redeliveries)."""
        self._note("replay_delivered")
        self._invoke(self._pick(self.delivered, pick), fault)

    @rule(fault=FAULT)
    def world_moves_on(self, fault: str | None) -> None:
        """The next thing that would happen anyway: the oldest pending delivery arrives, else ECS
        moves a task on, else GitHub gives an idle runner a job, else a running job finishes."""
        self._note("world_moves_on")
        if self.pending:
            delivery = self.pending.pop(0)
            self._invoke(delivery, fault)
            self.delivered.append(delivery)
        elif starting := [t for t in self.fleet.live() if t.status in ("PROVISIONING", "PENDING")]:
            self._absorb(self.fleet.advance(starting[0]))
        elif idle := self._idle_online():
            self._take_job(idle[0], deliver_now=False)
        elif running := self._running_jobs():
            self._complete(*running[0], succeeded=True)

    # --- time, janitor and faults -------------------------------------------------------------

    @rule(seconds=st.sampled_from(CLOCK_STEPS), fault=FAULT)
    def janitor(self, seconds: int, fault: str | None) -> None:
        self._note("janitor")
        self.world.clock.advance(seconds)
        finished = self._run_janitor(fault)
        if finished:
            self._check_after_janitor()

    def _run_janitor(self, fault: str | None = None) -> bool:
        busy = {t.arn for _, t in self._running_jobs() if t is not None and not t.stopped}
        with self._fault(fault):
            try:
                report = run_janitor(self.world.deps())
            except SimulatedCrash:
                TALLY.outcomes["crashed janitor"] += 1
                finished = False
            else:
                TALLY.outcomes["janitor run"] += 1
                finished = not report.errors
        for delivery in self.world.github.hooks.deliver_pending():  # the redeliveries it asked for
            TALLY.outcomes[f"redelivered {delivery.action} -> {delivery.status_code}"] += 1
        self._absorb(self.fleet.sync())
        self._check_busy_tasks_kept(busy)
        return finished

    def _check_busy_tasks_kept(self, busy: set[str]) -> None:
        """The janitor never stops a task whose runner GitHub reports busy, unless the TTL passed."""
        for arn in busy:
            task = self.fleet.tasks[arn]
            if task.stopped:
                record = self.world.record(task.runner_name)
                assert "TTL" in record.status_reason, (
                    f"the janitor stopped busy runner {task.runner_name}: {record.status_reason}"
                )

    # --- what the model knows about the outside world -----------------------------------------

    def _busy(self, task: SimTask) -> bool:
        return any(job.runner_id == task.github_runner_id for job, _ in self._running_jobs())

    def _idle_online(self) -> list[SimTask]:
        return [task for task in self.fleet.online() if not self._busy(task)]

    def _running_jobs(self) -> list[tuple[Job, SimTask | None]]:
        running = []
        for model_job in self.jobs:
            job = model_job.job
            if job.status == "in_progress":
                running.append((job, self.running_tasks.get(job.id)))
        return running

    def _building(self) -> list[str]:
        return [
            image.build_id
            for image in self.world.store().list_images()
            if image.state.value == "BUILDING" and image.build_id
        ]

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def records_are_consistent(self) -> None:
        items = raw_items(self.world)
        records = runner_records(self.world)
        guards = {
            int(item["pk"]["S"][4:]): item["runner_name"]["S"]
            for item in items
            if item["pk"]["S"].startswith("JOB#")
        }
        # A job's runners form one chain of successors; the guard names the newest.
        assert duplicated_jobs(records.values()) == {}
        replaced = {r.replaces for r in records.values() if r.replaces is not None}
        for record in records.values():
            if record.runner_name not in replaced:
                assert guards.get(record.job_id) == record.runner_name, record.runner_name
            assert record.status_reason, f"{record.runner_name} has no reason"
        # Never two live runners that have not taken a job for one job at once.
        assert all(count <= 1 for count in live_idle_per_job(records.values()).values())
        # Statuses only along the table (notes repeat a status); terminal ones never change.
        for name, record in records.items():
            path = list(record.status_path)
            assert path[0] in (RunnerStatus.STARTING, RunnerStatus.FAILED), path
            for before, after in pairwise(path):
                assert after in TRANSITIONS[before], f"{name}: {before} -> {after}"
            assert path[-1] is record.status
            earlier = self.seen.get(name)
            if earlier is not None:
                assert record.history[: len(earlier.history)] == earlier.history, name
                if earlier.terminal:
                    assert (record.status, record.status_reason) == (earlier.status, earlier.status_reason)
        self.seen = records
        # The capacity counter matches the slot holders.
        assert active_slots(self.world) == sum(1 for r in records.values() if r.holds_slot)
        # At most one live task per runner.
        live = [self.fleet.tasks[arn] for arn in self._live_arns() if arn in self.fleet.tasks]
        assert duplicates([t.runner_name for t in live]) == {}
        # What each kind of job leaves behind.
        by_job = {job_id: records[name] for job_id, name in guards.items() if name in records}
        for model_job in self.jobs:
            record = by_job.get(model_job.job.id)
            if model_job.kind == "foreign":
                assert record is None
            elif model_job.kind == "refused" and record is not None:
                assert record.status is RunnerStatus.FAILED and "class" in record.status_reason
                assert not was_launched(record)
            elif model_job.valid and model_job.acknowledged:
                assert record is not None, f"acknowledged job {model_job.job.id} has no runner record"

    def _live_arns(self) -> list[str]:
        ecs = self.world.client("ecs")
        return list(
            ecs.list_tasks(cluster=self.world.settings.cluster_arn, desiredStatus="RUNNING")["taskArns"]
        )

    def _check_after_janitor(self) -> None:
        records = runner_records(self.world)
        now, ttl = self.world.clock.now(), timedelta(seconds=self.world.settings.runner_ttl_seconds)
        for arn in self._live_arns():
            task = self.fleet.tasks[arn]
            record = records.get(task.runner_name)
            assert record is not None and not record.terminal, (
                f"task {arn} outlived runner {task.runner_name}"
            )
            started = record.task_started_at
            assert started is None or now - started <= ttl, f"{record.runner_name} outlived its TTL"

    # --- the end ------------------------------------------------------------------------------

    def teardown(self) -> None:
        try:
            if hasattr(self, "world"):
                self._settle()
                self._check_settled()
        finally:
            self._exit.close()

    def _settle(self) -> None:
        for model_job in self.jobs:
            if model_job.job.status == "waiting":
                self.world.sim.approve(model_job.job)
                self.pending.append(webhook(self.world.sim.payload(model_job.job, "queued"), "queued"))
        # Rounds of 10 simulated minutes; a backlog of approved jobs drains max_runners at a time,
        # so the budget grows with the jobs (the loop ends as soon as everything settled).
        for _ in range(SETTLE_ROUNDS + len(self.jobs)):
            while self.pending:
                self._invoke(self.pending.pop(0))
            if self._building():
                self.build_finishes(succeeded=True)
                continue
            for task in self.fleet.live():
                while task.status in ("PROVISIONING", "PENDING"):
                    self._absorb(self.fleet.advance(task))
            for task in self._idle_online():
                self._take_job(task, deliver_now=False)
            for job, task in self._running_jobs():
                self._complete(job, task, succeeded=True)
            if self.pending:
                continue
            records = runner_records(self.world).values()
            queued = [m for m in self.jobs if m.valid and m.job.status == "queued" and not self._explained(m)]
            if not any(not r.terminal for r in records) and not self.fleet.live() and not queued:
                return
            self.world.clock.advance(601)
            self._run_janitor()

    def _explained(self, model_job: ModelJob) -> bool:
        """A job refused for a configuration reason (a failed image build) or given up after its
        runners really died the budgeted number of times: it may stay queued, with its reason."""
        record = self.world.record_for_job(model_job.job.id)
        if record is None or record.refusal is None:
            return False
        if record.refusal == "relaunches":
            return record.relaunches >= self.world.settings.max_job_relaunches
        return record.refusal == "image"

    def _check_settled(self) -> None:
        records = runner_records(self.world)
        TALLY.outcomes["runners replaced"] += sum(1 for r in records.values() if r.replaces is not None)
        TALLY.outcomes["jobs given up or refused"] += sum(
            1 for m in self.jobs if m.valid and self._explained(m)
        )
        lost = [
            m.job.id for m in self.jobs if m.valid and m.job.status == "queued" and not self._explained(m)
        ]
        assert lost == [], f"jobs GitHub still holds queued at the end: {lost}"
        assert self.killed == [], f"jobs killed: their runner's task stopped while they ran: {self.killed}"
        assert not self.fleet.live(), "tasks still running after the janitor settled everything"
