"""The workflow the demo plays: a matrix of jobs, plus the deliveries a deployment must refuse.

``full``: six jobs of one workflow run: three classes, a custom ``image:``, the ``linux``/``x64``
labels, a class nobody defined and a job for another self-hosted fleet; a redelivered webhook, a
forged one, and an ECS event of another cluster. ``smoke``: the same checks with two jobs.

Both then show a warm pool (``warm_pools``): the janitor fills it, a job the pool covers takes its
idle runner (no task started for the job; a replacement refills the pool) while a job it does not
cover starts cold, side by side. And no job is left behind: a Spot task interrupted before its
runner took the job is replaced, and a job whose queued webhook was lost is found on GitHub by the
janitor's reconciliation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.domain.status import RunnerStatus

from .ecs_events import other_cluster_event
from .event_router import EventBus
from .github_side import DeliveryResult, GitHubSide
from .github_state import Job
from .progress import Progress
from .runner_tasks import Phase, RunnerTasks

IDLE_POLL_SECONDS = 0.1
FORGED_JOB_ID = 77_777_777_777


@dataclass(frozen=True)
class JobSpec:
    name: str
    labels: tuple[str, ...]
    expect: str  # "completed" (a runner runs it), "refused" (FAILED record), "ignored" (not ours)


@dataclass(frozen=True)
class WarmPoolSpec:
    """One warm pool, a job it covers (a warm hit) and one it does not (a cold start)."""

    pool: str
    class_name: str
    size: int
    warm: JobSpec
    cold: JobSpec
    workflow: str = "ci (warm pool)"
    deadline_seconds: float = 90.0

    @property
    def variable(self) -> dict[str, dict[str, Any]]:
        """The ``warm_pools`` value given to Terraform."""
        return {self.pool: {"class": self.class_name, "size": self.size}}


WARM_POOL = WarmPoolSpec(
    pool="medium",
    class_name="medium",
    size=1,
    warm=JobSpec("package", ("self-hosted", "linux", "x64", "class:medium"), "completed"),
    cold=JobSpec("docs", ("self-hosted", "class:small"), "completed"),
)


@dataclass(frozen=True)
class LeftBehindSpec:
    """Two jobs that would be left behind without the control plane's safety nets."""

    spot: JobSpec  # its Spot task is interrupted before its runner takes the job
    lost: JobSpec  # its queued webhook never arrives
    workflow: str = "ci (no job left behind)"
    deadline_seconds: float = 90.0


LEFT_BEHIND = LeftBehindSpec(
    spot=JobSpec("fuzz", ("self-hosted", "class:spot"), "completed"),
    lost=JobSpec("release notes", ("self-hosted", "class:large"), "completed"),
)


@dataclass(frozen=True)
class Scenario:
    name: str
    workflow: str
    jobs: tuple[JobSpec, ...]
    redeliver: str  # the job whose queued delivery GitHub sends twice
    deadline_seconds: float
    warm_pool: WarmPoolSpec | None = None
    left_behind: LeftBehindSpec | None = None

    @property
    def valid_jobs(self) -> tuple[JobSpec, ...]:
        return tuple(job for job in self.jobs if job.expect == "completed")


FULL = Scenario(
    name="full",
    workflow="ci (matrix)",
    jobs=(
        JobSpec("lint", ("self-hosted", "class:small"), "completed"),
        JobSpec("unit-tests", ("self-hosted", "class:medium"), "completed"),
        JobSpec(
            "integration (debian 12)",
            ("self-hosted", "class:large", "image:public.ecr.aws/docker/library/debian:12"),
            "completed",
        ),
        JobSpec("build", ("self-hosted", "linux", "x64", "class:medium"), "completed"),
        JobSpec("train-model", ("self-hosted", "class:gpu-xl"), "refused"),
        JobSpec("deploy (k8s fleet)", ("self-hosted", "k8s"), "ignored"),
    ),
    redeliver="unit-tests",
    deadline_seconds=180.0,
    warm_pool=WARM_POOL,
    left_behind=LEFT_BEHIND,
)

SMOKE = Scenario(
    name="smoke",
    workflow="ci (smoke)",
    jobs=(
        JobSpec("lint", ("self-hosted", "class:small"), "completed"),
        JobSpec("build", ("self-hosted", "linux", "x64", "class:medium"), "completed"),
    ),
    redeliver="build",  # the first job goes through the CLI; GitHub redelivers what it sent itself
    deadline_seconds=120.0,
    warm_pool=WARM_POOL,
    left_behind=LEFT_BEHIND,
)

SCENARIOS = {scenario.name: scenario for scenario in (FULL, SMOKE)}

# (delivery kind, expected HTTP status, expected control-plane outcome) per job expectation.
EXPECTED_ANSWER = {"completed": (200, "accepted"), "refused": (200, "refused"), "ignored": (202, "ignored")}


@dataclass
class WarmPlayed:
    """The warm pool part: the janitor's fill, then a warm and a cold job queued together."""

    spec: WarmPoolSpec
    fill_report: dict[str, Any] | None = None
    filled: bool = False
    idle_before: tuple[str, ...] = ()  # the pool's idle runners when the two jobs were queued
    tasks_before: frozenset[str] = frozenset()  # every task ARN seen before they were queued
    jobs: dict[str, Job] = field(default_factory=dict)  # "warm" / "cold" -> GitHub job
    queued: dict[str, DeliveryResult] = field(default_factory=dict)
    settled: bool = False

    def latency(self, start: str) -> float | None:
        """Queued → in_progress on GitHub's side (the stand-in's own clock), in seconds."""
        job = self.jobs.get(start)
        if job is None or job.started_at is None:
            return None
        return round(job.started_at - job.created_at, 2)


@dataclass
class LeftBehindPlayed:
    spec: LeftBehindSpec
    jobs: dict[str, Job] = field(default_factory=dict)  # "spot" / "lost" -> GitHub job
    spot_queued: DeliveryResult | None = None
    interrupted: str | None = None  # the runner whose Spot task was interrupted
    interrupted_task: str | None = None
    reconcile_report: dict[str, Any] | None = None  # the janitor run that found the lost job
    settled: bool = False


@dataclass
class Played:
    """What happened, for the summary and the invariants."""

    scenario: Scenario
    jobs: dict[str, Job] = field(default_factory=dict)  # spec name -> GitHub job
    queued: dict[str, DeliveryResult] = field(default_factory=dict)  # spec name -> its queued delivery
    redelivery: DeliveryResult | None = None
    forged: DeliveryResult | None = None
    other_cluster_dropped: bool | None = None
    settled: bool = False
    unexpected: list[str] = field(default_factory=list)
    warm: WarmPlayed | None = None
    left_behind: LeftBehindPlayed | None = None


def labels_text(labels: Sequence[str]) -> str:
    return "[" + ", ".join(labels) + "]"


def _answer(result: DeliveryResult) -> str:
    text = f"{result.status} {result.outcome}".strip()
    runner = result.response.get("runner")
    return f"{text} (runner {str(runner)[:26]}…)" if runner else text


def wait_until(
    done: Callable[[], bool], tick: Callable[[], bool], deadline_seconds: float, idle: Callable[[float], Any]
) -> bool:
    """Tick until ``done()`` or the deadline; ``idle`` waits a moment when a tick changed nothing."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        progressed = tick()
        if done():
            return True
        if time.monotonic() > deadline:
            return False
        if not progressed:
            idle(IDLE_POLL_SECONDS)


class ScenarioPlayer:
    def __init__(
        self,
        *,
        scenario: Scenario,
        github: GitHubSide,
        bus: EventBus,
        runner_tasks: RunnerTasks,
        tick_builds: Callable[[], bool],
        builds_pending: Callable[[], int],
        records_settled: Callable[[], bool],
        send_with_cli: Callable[[Job], DeliveryResult | None],
        progress: Progress,
    ) -> None:
        self.scenario = scenario
        self.github = github
        self.bus = bus
        self.runner_tasks = runner_tasks
        self._tick_builds = tick_builds
        self._builds_pending = builds_pending
        self._records_settled = records_settled
        self._send_with_cli = send_with_cli
        self.progress = progress
        self.played = Played(scenario)

    def expect(self, what: str, result: DeliveryResult, status: int, outcome: str) -> None:
        if result.status != status or (outcome and result.outcome != outcome):
            self.played.unexpected.append(
                f"{what}: expected {status} {outcome}, got {result.status} {result.outcome}"
            )
            self.progress.warn(f"{what}: expected {status} {outcome}, got {result.status} {result.outcome}")

    def show_api_calls(self) -> None:
        """What the functions asked GitHub (the stand-in) since the last look."""
        for method, path, status in self.github.new_api_calls():
            self.progress.event("github", f"API {method} {path} → {status} (from the control plane)")

    def queue_jobs(self) -> None:
        for spec in self.scenario.jobs:
            job = self.github.queue(spec.labels, spec.name, self.scenario.workflow)
            self.played.jobs[spec.name] = job
            self.progress.event(
                "github", f"queued job {job.id} {spec.name!r} runs-on {labels_text(spec.labels)}"
            )

    def deliver_queued(self) -> None:
        log = self.progress.event
        for index, spec in enumerate(self.scenario.jobs):
            job = self.played.jobs[spec.name]
            result = self._send_with_cli(job) if index == 0 else None
            via = "via `python -m ecsrunner webhook send`" if result is not None else ""
            if result is None:
                result = self.github.deliver(job, "queued")
            self.played.queued[spec.name] = result
            log(
                "webhook",
                f"queued job {job.id} {labels_text(spec.labels)} → {_answer(result)} {via}".rstrip(),
            )
            self.show_api_calls()
            status, outcome = EXPECTED_ANSWER[spec.expect]
            self.expect(f"queued {spec.name}", result, status, outcome)
            if spec.expect == "refused":
                self.progress.note(f"reason: {result.response.get('detail', '')}")
            if spec.name == self.scenario.redeliver:
                again = self.github.post(result.delivery, kind="redelivery")
                self.played.redelivery = again
                log("webhook", f"queued job {job.id} redelivered (same X-GitHub-Delivery) → {_answer(again)}")
                self.expect("redelivery", again, 200, "duplicate")

    def deliver_forged(self) -> None:
        forged = self.github.forged(FORGED_JOB_ID, ("self-hosted", "class:large"))
        result = self.github.post(forged, kind="forged")
        self.played.forged = result
        self.progress.event("webhook", f"forged signature for job {FORGED_JOB_ID} → {_answer(result)}")
        self.expect("forged delivery", result, 401, "")

    def other_cluster(self) -> None:
        event = other_cluster_event(self.bus.account, self.bus.region, "another-team-web")
        deliveries = self.bus.put_event(event)
        self.played.other_cluster_dropped = not deliveries
        cluster = event["detail"]["clusterArn"].rsplit("/", 1)[-1]
        outcome = (
            "no rule matched: dropped" if not deliveries else f"delivered to {len(deliveries)} target(s)"
        )
        self.progress.event("ecs", f"task event of cluster {cluster!r} (not ours) → {outcome}")
        if deliveries:
            self.played.unexpected.append("an ECS event of another cluster matched a rule")

    def valid_jobs_done(self) -> bool:
        for spec in self.scenario.valid_jobs:
            if self.played.jobs[spec.name].status != "completed":
                return False
        return self.quiet()

    def quiet(self) -> bool:
        """No runner alive, no image build pending, no runner record active."""
        return not self.runner_tasks.live() and self.idle_builds() and self._records_settled()

    def idle_builds(self) -> bool:
        return self._builds_pending() == 0

    def tick(self) -> bool:
        progressed = self._tick_builds()
        self.show_api_calls()
        progressed = self.runner_tasks.tick() or progressed
        self.show_api_calls()
        return progressed

    def run(self, idle: Callable[[float], Any]) -> Played:
        self.queue_jobs()
        self.deliver_queued()
        self.deliver_forged()
        self.other_cluster()
        with self.progress.waiting("runners registering, running their jobs and exiting"):
            self.played.settled = wait_until(
                self.valid_jobs_done, self.tick, self.scenario.deadline_seconds, idle
            )
        if not self.played.settled:
            self.progress.error(f"not settled within {self.scenario.deadline_seconds:.0f}s")
        return self.played


def idle_pool_runners(active: list[RunnerRecord], pool: str) -> list[RunnerRecord]:
    """The pool's warm runners nobody claimed, idle (task running, waiting for a job)."""
    return [r for r in active if r.pool == pool and not r.job_id and r.status is RunnerStatus.WAITING_FOR_JOB]


class WarmPoolPlayer:
    """The janitor fills the pool; then a job the pool covers and one it does not are queued at once."""

    def __init__(
        self,
        *,
        player: ScenarioPlayer,
        spec: WarmPoolSpec,
        fire_janitor: Callable[[], dict[str, Any] | None],
        active: Callable[[], list[RunnerRecord]],
    ) -> None:
        self.player = player
        self.spec = spec
        self._fire_janitor = fire_janitor
        self._active = active
        self.played = WarmPlayed(spec)

    def idle_names(self) -> set[str]:
        """Idle warm runners whose runner is online in GitHub, waiting for a job."""
        online = {c.runner_name for c in self.player.runner_tasks.live() if c.phase is Phase.IDLE}
        return {r.runner_name for r in idle_pool_runners(self._active(), self.spec.pool)} & online

    def pool_ready(self) -> bool:
        return len(self.idle_names()) >= self.spec.size

    def settled(self) -> bool:
        """Both jobs done, the pool back at its size and nothing else alive."""
        return all(job.status == "completed" for job in self.played.jobs.values()) and self.quiet()

    def quiet(self) -> bool:
        """The pool at its size, idle, and nothing else alive (no runner, build or active record)."""
        idle = self.idle_names()
        busy = [c for c in self.player.runner_tasks.live() if c.runner_name not in idle]
        others = [r for r in self._active() if r.runner_name not in idle]
        return len(idle) == self.spec.size and not busy and not others and self.player.idle_builds()

    def run(self, idle: Callable[[float], Any]) -> WarmPlayed:
        p, spec, played = self.player.progress, self.spec, self.played
        with p.waiting(f"the janitor fills warm pool {spec.pool!r}; its runner starts and waits for a job"):
            played.fill_report = self._fire_janitor()
            played.filled = wait_until(self.pool_ready, self.player.tick, spec.deadline_seconds, idle)
        if not played.filled:
            p.error(f"warm pool {spec.pool!r} not filled within {spec.deadline_seconds:.0f}s")
            return played
        played.idle_before = tuple(sorted(self.idle_names()))
        played.tasks_before = frozenset(self.player.runner_tasks.tasks)
        for name in played.idle_before:
            p.note(f"warm pool {spec.pool!r}: {name} is idle in GitHub, waiting for a job")
        github, log = self.player.github, p.event
        for start, job_spec in (("warm", spec.warm), ("cold", spec.cold)):
            job = github.queue(job_spec.labels, job_spec.name, spec.workflow)
            played.jobs[start] = job
            covered = "the pool covers it" if start == "warm" else "no pool covers it"
            log(
                "github",
                f"queued job {job.id} {job_spec.name!r} runs-on {labels_text(job_spec.labels)} ({covered})",
            )
        for start in ("warm", "cold"):
            job = played.jobs[start]
            result = github.deliver(job, "queued")
            played.queued[start] = result
            detail = result.response.get("detail") or ""
            log("webhook", f"queued job {job.id} → {_answer(result)}" + (f": {detail}" if detail else ""))
            self.player.show_api_calls()
            self.player.expect(f"queued {start} job", result, 200, "accepted")
        with p.waiting("the warm runner runs its job, the cold one starts, the pool refills"):
            played.settled = wait_until(self.settled, self.player.tick, spec.deadline_seconds, idle)
        if not played.settled:
            p.error(f"the warm pool part did not settle within {spec.deadline_seconds:.0f}s")
        for start in ("warm", "cold"):
            job, seconds = played.jobs[start], played.latency(start)
            took = f"{seconds:.2f}s" if seconds is not None else "-"
            p.note(f"{start} start: job {job.id} queued → in_progress in {took} on {job.runner_name}")
        return played


class LeftBehindPlayer:
    """A Spot task interrupted before its runner takes the job; a queued webhook that never arrives."""

    def __init__(
        self,
        *,
        player: ScenarioPlayer,
        spec: LeftBehindSpec,
        fire_janitor: Callable[[], dict[str, Any] | None],
        quiet: Callable[[], bool],
    ) -> None:
        self.player = player
        self.spec = spec
        self._fire_janitor = fire_janitor
        self._quiet = quiet
        self.played = LeftBehindPlayed(spec)

    def _done(self, kind: str) -> Callable[[], bool]:
        return lambda: self.played.jobs[kind].status == "completed" and self._quiet()

    def _wait(self, done: Callable[[], bool], idle: Callable[[float], Any]) -> bool:
        return wait_until(done, self.player.tick, self.spec.deadline_seconds, idle)

    def run(self, idle: Callable[[float], Any]) -> LeftBehindPlayed:
        p, spec, played, github = self.player.progress, self.spec, self.played, self.player.github
        tasks = self.player.runner_tasks
        # 1. A Spot task dies before its runner takes the job: the job gets a new runner.
        job = played.jobs["spot"] = github.queue(spec.spot.labels, spec.spot.name, spec.workflow)
        p.event("github", f"queued job {job.id} {spec.spot.name!r} runs-on {labels_text(spec.spot.labels)}")
        result = played.spot_queued = github.deliver(job, "queued")
        p.event("webhook", f"queued job {job.id} → {_answer(result)}")
        self.player.show_api_calls()
        self.player.expect("queued spot job", result, 200, "accepted")
        runner = str(result.response.get("runner") or "")

        def started() -> bool:
            return any(c.runner_name == runner for c in tasks.containers.values())

        with p.waiting("its Spot task starts; Fargate takes it back before the runner takes the job"):
            if not self._wait(started, idle):
                p.error(f"the task of {runner} did not start within {spec.deadline_seconds:.0f}s")
                return played
            container = next(c for c in tasks.containers.values() if c.runner_name == runner)
            played.interrupted, played.interrupted_task = runner, container.task_arn
            p.note(f"{runner}: its job {job.id} is still queued; Fargate interrupts the Spot task")
            tasks.interrupt(container.task_arn)
            self.player.show_api_calls()
            spot_done = self._wait(self._done("spot"), idle)
        # 2. A queued webhook is lost: the janitor finds the job on GitHub.
        lost = played.jobs["lost"] = github.queue(spec.lost.labels, spec.lost.name, spec.workflow)
        p.event(
            "github",
            f"queued job {lost.id} {spec.lost.name!r} runs-on {labels_text(spec.lost.labels)}: "
            "its webhook delivery is lost (never sent)",
        )
        with p.waiting("the janitor reconciles with GitHub and launches a runner for the lost job"):
            played.reconcile_report = self._fire_janitor()
            lost_done = self._wait(self._done("lost"), idle)
        played.settled = spot_done and lost_done
        if not played.settled:
            p.error(f"no job left behind: not settled within {spec.deadline_seconds:.0f}s per part")
        return played
