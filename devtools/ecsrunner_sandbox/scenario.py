"""The workflow the demo plays: a matrix of jobs, plus the deliveries a deployment must refuse.

``full``: six jobs of one workflow run: three classes, a custom ``image:``, the ``linux``/``x64``
labels, a class nobody defined and a job for another self-hosted fleet; a redelivered webhook, a
forged one, and an ECS event of another cluster. ``smoke``: the same checks with two jobs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .ecs_events import other_cluster_event
from .event_router import EventBus
from .github_side import DeliveryResult, GitHubSide
from .github_state import Job
from .progress import Progress
from .runner_tasks import RunnerTasks

IDLE_POLL_SECONDS = 0.1
FORGED_JOB_ID = 77_777_777_777


@dataclass(frozen=True)
class JobSpec:
    name: str
    labels: tuple[str, ...]
    expect: str  # "completed" (a runner runs it), "refused" (FAILED record), "ignored" (not ours)


@dataclass(frozen=True)
class Scenario:
    name: str
    workflow: str
    jobs: tuple[JobSpec, ...]
    redeliver: str  # the job whose queued delivery GitHub sends twice
    deadline_seconds: float

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
)

SCENARIOS = {scenario.name: scenario for scenario in (FULL, SMOKE)}

# (delivery kind, expected HTTP status, expected control-plane outcome) per job expectation.
EXPECTED_ANSWER = {"completed": (200, "accepted"), "refused": (200, "refused"), "ignored": (202, "ignored")}


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


def _labels(labels: tuple[str, ...]) -> str:
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

    def _check(self, what: str, result: DeliveryResult, status: int, outcome: str) -> None:
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
            self.progress.event("github", f"queued job {job.id} {spec.name!r} runs-on {_labels(spec.labels)}")

    def deliver_queued(self) -> None:
        log = self.progress.event
        for index, spec in enumerate(self.scenario.jobs):
            job = self.played.jobs[spec.name]
            result = self._send_with_cli(job) if index == 0 else None
            via = "via `python -m ecsrunner webhook send`" if result is not None else ""
            if result is None:
                result = self.github.deliver(job, "queued")
            self.played.queued[spec.name] = result
            log("webhook", f"queued job {job.id} {_labels(spec.labels)} → {_answer(result)} {via}".rstrip())
            self.show_api_calls()
            status, outcome = EXPECTED_ANSWER[spec.expect]
            self._check(f"queued {spec.name}", result, status, outcome)
            if spec.expect == "refused":
                self.progress.note(f"reason: {result.response.get('detail', '')}")
            if spec.name == self.scenario.redeliver:
                again = self.github.post(result.delivery, kind="redelivery")
                self.played.redelivery = again
                log("webhook", f"queued job {job.id} redelivered (same X-GitHub-Delivery) → {_answer(again)}")
                self._check("redelivery", again, 200, "duplicate")

    def deliver_forged(self) -> None:
        forged = self.github.forged(FORGED_JOB_ID, ("self-hosted", "class:large"))
        result = self.github.post(forged, kind="forged")
        self.played.forged = result
        self.progress.event("webhook", f"forged signature for job {FORGED_JOB_ID} → {_answer(result)}")
        self._check("forged delivery", result, 401, "")

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
        return not self.runner_tasks.live() and self._builds_pending() == 0 and self._records_settled()

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
