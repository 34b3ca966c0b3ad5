"""What Fargate and the runner container do with each runner task moto starts.

For a new task: the ECS agent reads the task's environment file from S3 (as the execution role
would) while the task is PENDING, then the container runs. The container plays the runner image:
``run.sh --jitconfig`` brings the runner registered by generate-jitconfig online in the GitHub
stand-in, which hands it a queued job whose labels it satisfies; the job runs and completes (the
stand-in sends the in_progress and completed webhooks, as GitHub would), the ephemeral runner
deregisters, and the container exits 0. Each step is one tick, so runners interleave.
Every task state change goes onto the event bus as the ECS event AWS would send.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from .ecs_events import (
    ESSENTIAL_CONTAINER_EXITED,
    USER_INITIATED,
    EcsTaskWatcher,
    StopCause,
    TaskObservation,
    TaskTimeline,
    task_state_change,
)
from .event_router import Delivery as EventDelivery
from .event_router import EventBus
from .github_runner_sim import RunnerSimError
from .github_side import DeliveryResult, GitHubSide
from .github_state import Job

JIT_VARIABLE = "ACTIONS_RUNNER_INPUT_JITCONFIG"
CONTAINER_EXITED_REASON = "Essential container in task exited"
TASK_FAILED_TO_START = "TaskFailedToStart"

Log = Callable[[str, str], None]


class Phase(enum.Enum):
    BOOTING = "booting"
    IDLE = "idle"
    RUNNING_JOB = "running job"
    EXITING = "exiting"
    EXITED = "exited"


@dataclass
class RunnerContainer:
    task_arn: str
    runner_name: str
    jit_config: str = field(repr=False)
    phase: Phase = Phase.BOOTING
    github_runner_id: int | None = None
    job: Job | None = None
    exit_code: int | None = None


@dataclass
class TaskRecord:
    """One task's life as the demo saw it (for the summary)."""

    task_arn: str
    runner_name: str
    seen_at: datetime
    running_at: datetime | None = None
    stopped_at: datetime | None = None
    stop_code: str | None = None
    exit_code: int | None = None
    job_id: int | None = None


def short_arn(arn: str) -> str:
    return arn.rsplit("/", 1)[-1][:8]


def parse_env_file(text: str) -> dict[str, str]:
    """ECS environment-file rules: ``NAME=value`` lines; ``#`` comments and blank lines skipped."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        values[name.strip()] = value
    return values


class RunnerTasks:
    def __init__(
        self,
        *,
        ecs_client: Any,
        s3_client: Any,
        ecr_client: Any,
        watcher: EcsTaskWatcher,
        bus: EventBus,
        github: GitHubSide,
        log: Log,
    ) -> None:
        self._ecs = ecs_client
        self._s3 = s3_client
        self._ecr = ecr_client
        self.watcher = watcher
        self._bus = bus
        self._github = github
        self._log = log
        self.containers: dict[str, RunnerContainer] = {}
        self.tasks: dict[str, TaskRecord] = {}
        self.event_outcomes: list[tuple[str, str, list[EventDelivery]]] = []

    # --- events ---------------------------------------------------------------------------------

    def _emit(
        self, task: dict[str, Any], timeline: TaskTimeline, status: str, cause: StopCause | None = None
    ) -> None:
        event = task_state_change(
            task,
            timeline,
            last_status=status,
            account=self._bus.account,
            region=self._bus.region,
            cause=cause,
            image_digest=self._image_digest(task),
        )
        deliveries = self._bus.put_event(event)
        record = self.tasks.get(task["taskArn"])
        if record is not None and status == "STOPPED":
            record.stopped_at = datetime.now(UTC)
            record.stop_code = cause.stop_code if cause else USER_INITIATED
            record.exit_code = cause.exit_code if cause else None
        name = task.get("startedBy") or "?"
        detail = f"task {short_arn(task['taskArn'])} {status}"
        if cause is not None:
            detail += f" ({cause.stop_code}" + (
                f", exit {cause.exit_code})" if cause.exit_code is not None else ")"
            )
        self.event_outcomes.append((task["taskArn"], status, deliveries))
        self._log("ecs", f"{detail} → {_describe(deliveries)} [{_short_name(name)}]")

    def _image_digest(self, task: dict[str, Any]) -> str | None:
        image = next((c.get("image") for c in task.get("containers") or []), None)
        if not image or ".dkr.ecr." not in image or ":" not in image.rsplit("/", 1)[-1]:
            return None
        repository, tag = image.split("/", 1)[1].rsplit(":", 1)
        try:
            found = self._ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
        except ClientError:
            return None
        details = found.get("imageDetails") or [{}]
        digest = details[0].get("imageDigest")
        return str(digest) if digest else None

    # --- the agent ------------------------------------------------------------------------------

    def _read_environment_file(self, task: dict[str, Any]) -> str:
        """The JIT config from the task's S3 environment file, read as the ECS agent does."""
        for override in (task.get("overrides") or {}).get("containerOverrides") or []:
            for env_file in override.get("environmentFiles") or []:
                arn = env_file["value"]
                bucket, _, key = arn.removeprefix("arn:aws:s3:::").partition("/")
                body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
                value = parse_env_file(body).get(JIT_VARIABLE)
                if value:
                    return value
        raise LookupError(f"no {JIT_VARIABLE} in the task's environment files")

    def _start(self, observation: TaskObservation) -> None:
        task = dict(observation.task)
        arn, name = task["taskArn"], str(task.get("startedBy") or "")
        job_tag = observation.tags.get("ecsrunner:job-id", "")
        self.tasks[arn] = TaskRecord(
            arn, name, observation.timeline.created_at, job_id=int(job_tag) if job_tag.isdigit() else None
        )
        self._emit(task, observation.timeline, "PENDING")
        try:
            jit = self._read_environment_file(task)
        except (ClientError, LookupError) as exc:
            reason = f"ResourceInitializationError: failed to download env files: {exc}"
            self._ecs.stop_task(cluster=self.watcher.cluster_arn, task=arn, reason=reason[:255])
            task.update(stoppedReason=reason, lastStatus="STOPPED")
            self._emit(task, observation.timeline, "STOPPED", StopCause(TASK_FAILED_TO_START, None))
            return
        self._log("agent", f"task {short_arn(arn)} read its environment file (JIT config) from S3")
        self.tasks[arn].running_at = datetime.now(UTC)
        self._emit(task, observation.timeline, "RUNNING")
        self.containers[arn] = RunnerContainer(arn, name, jit)

    def _stopped_by_someone(self, observation: TaskObservation) -> None:
        """StopTask by the control plane, the janitor or an operator: SIGTERM, graceful exit."""
        arn = observation.task["taskArn"]
        if arn not in self.tasks:
            name = str(observation.task.get("startedBy") or "")
            self.tasks[arn] = TaskRecord(arn, name, observation.timeline.created_at)
        container = self.containers.get(arn)
        exit_code = None
        if container is not None and container.phase is not Phase.EXITED:
            if container.github_runner_id is not None:
                self._github.sim.runner_offline(container.github_runner_id)
            container.phase, container.exit_code = Phase.EXITED, 0
            exit_code = 0
        self._emit(
            dict(observation.task), observation.timeline, "STOPPED", StopCause(USER_INITIATED, exit_code)
        )

    def interrupt(
        self,
        task_arn: str,
        *,
        stop_code: str = "SpotInterruption",
        reason: str = "Your Spot Task was interrupted.",
        exit_code: int | None = 143,
    ) -> None:
        """Fargate takes the task back (a Spot interruption by default): the container gets SIGTERM,
        its runner drops offline in GitHub, and ECS reports the task STOPPED with ``stop_code``."""
        container = self.containers.get(task_arn)
        if container is not None and container.phase is not Phase.EXITED:
            if container.github_runner_id is not None:
                self._github.sim.runner_offline(container.github_runner_id)
            container.phase, container.exit_code = Phase.EXITED, exit_code
        stopped = self._ecs.stop_task(cluster=self.watcher.cluster_arn, task=task_arn, reason=reason)["task"]
        timeline = self.watcher.timelines[task_arn]
        self._emit(stopped, timeline, "STOPPED", StopCause(stop_code, exit_code, reason))

    # --- the container --------------------------------------------------------------------------

    def _step(self, container: RunnerContainer) -> bool:
        sim, name = self._github.sim, _short_name(container.runner_name)
        if container.phase is Phase.BOOTING:
            try:
                runner = sim.runner_online(container.jit_config)
            except RunnerSimError as exc:
                self._log("runner", f"{name}: run.sh failed: {exc}")
                return self._exit(container, 1, f"runner configuration failed: {exc}")
            container.github_runner_id, container.phase = runner.id, Phase.IDLE
            self._log("runner", f"{name} online in GitHub (runner id {runner.id}), waiting for a job")
            return True
        if container.phase is Phase.IDLE:
            assert container.github_runner_id is not None
            job = sim.assign_job(container.github_runner_id)
            if job is None:
                return False
            container.job, container.phase = job, Phase.RUNNING_JOB
            record = self.tasks.get(container.task_arn)
            if record is not None:
                record.job_id = job.id
            result = self._github.deliver(job, "in_progress")
            self._log("webhook", f"in_progress job {job.id} on {name} → {_answer(result)}")
            return True
        if container.phase is Phase.RUNNING_JOB:
            assert container.job is not None
            job = sim.complete_job(container.job.id, "success")
            result = self._github.deliver(job, "completed")
            self._log("webhook", f"completed job {job.id} ({job.conclusion}) → {_answer(result)}")
            container.phase = Phase.EXITING
            return True
        if container.phase is Phase.EXITING:
            return self._exit(container, 0, None)
        return False

    def _exit(self, container: RunnerContainer, code: int, reason: str | None) -> bool:
        """The essential container exits: ECS stops the task (moto: StopTask) and says why."""
        container.phase, container.exit_code = Phase.EXITED, code
        stopped = self._ecs.stop_task(
            cluster=self.watcher.cluster_arn, task=container.task_arn, reason=CONTAINER_EXITED_REASON
        )["task"]
        timeline = self.watcher.timelines[container.task_arn]
        self._emit(stopped, timeline, "STOPPED", StopCause(ESSENTIAL_CONTAINER_EXITED, code, reason))
        return True

    # --- one tick -------------------------------------------------------------------------------

    def tick(self) -> bool:
        """Observe the cluster, then move every live container one step; True if anything happened."""
        progressed = False
        for observation in self.watcher.poll():
            progressed = True
            if observation.status == "STOPPED":
                self._stopped_by_someone(observation)
            elif observation.new:
                self._start(observation)
            else:  # a status the sandbox did not cause: report it as it is
                self._emit(dict(observation.task), observation.timeline, observation.status)
        for container in list(self.containers.values()):
            if container.phase is not Phase.EXITED:
                progressed = self._step(container) or progressed
        return progressed

    def live(self) -> list[RunnerContainer]:
        return [c for c in self.containers.values() if c.phase is not Phase.EXITED]


def _short_name(name: str) -> str:
    return name if len(name) <= 28 else f"{name[:26]}…"


def _answer(result: DeliveryResult) -> str:
    return f"{result.status} {result.outcome}".strip()


def _describe(deliveries: list[EventDelivery]) -> str:
    if not deliveries:
        return "no rule matched: dropped"
    parts = []
    for delivery in deliveries:
        if delivery.ok:
            result = delivery.invocation.result
            action = result.get("outcome") if isinstance(result, dict) else None
            parts.append(f"{delivery.rule} → {action or 'ok'}")
        else:
            error = delivery.invocation.error or {}
            parts.append(f"{delivery.rule} → ERROR {error.get('errorType')}: {error.get('errorMessage')}")
    return "; ".join(parts)
