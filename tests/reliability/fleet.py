"""What ECS and the runners inside the tasks do, for the tasks the control plane starts in moto.

moto creates a task on RunTask and never moves it on (the state manager is manual), so the truth
about each task lives here: PROVISIONING -> PENDING -> RUNNING -> STOPPED, with the ECS Task State
Change event of every step (built from the real AWS sample by ``tests.lifecycle.support``).

At RUNNING the ECS agent has read the environment file: the runner connects to the GitHub stand-in
with that JIT config (``RunnerSimulator.runner_online``). A task whose environment file is gone
fails to start, and a runner whose registration is gone exits with an error, as they would on AWS.
A task the control plane stops (StopTask) stops here too, with a ``UserInitiated`` event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ecsrunner_sandbox.github_runner_sim import RunnerSimError

from tests.lifecycle.support import World, ecs_task_event

PROGRESSION = ("PROVISIONING", "PENDING", "RUNNING", "STOPPED")
ESSENTIAL_EXITED = "EssentialContainerExited"


@dataclass
class SimTask:
    arn: str
    runner_name: str
    job_id: int | None
    status: str = "PROVISIONING"
    github_runner_id: int | None = None  # once the runner is online
    reached_running: bool = False

    @property
    def stopped(self) -> bool:
        return self.status == "STOPPED"


@dataclass
class Fleet:
    world: World
    tasks: dict[str, SimTask] = field(default_factory=dict)
    started: int = 0  # tasks RunTask created
    started_elsewhere: list[str] = field(default_factory=list)  # tasks started outside the recorder
    _seen_calls: int = 0

    # --- discovering what the control plane did ---------------------------------------------

    def sync(self) -> list[dict[str, Any]]:
        """New tasks (PROVISIONING) and tasks the control plane stopped; returns their events.

        New tasks are read from the RunTask answers the recorder saw (plus ``started_elsewhere``),
        stopped ones from ListTasks: moto's DescribeTasks is too slow to call for every task.
        """
        calls = self.world.recorder.calls[self._seen_calls :]
        self._seen_calls += len(calls)
        new = [
            task["taskArn"]
            for call in calls
            if call.name == "ecs.RunTask" and call.response
            for task in call.response.get("tasks", [])
        ]
        new += self.started_elsewhere
        self.started_elsewhere.clear()
        ecs, cluster = self.world.client("ecs"), self.world.settings.cluster_arn
        running = set(ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"])
        changed = [arn for arn in dict.fromkeys(new) if arn not in self.tasks]
        changed += [task.arn for task in self.live() if task.arn not in running]
        events: list[dict[str, Any]] = []
        for task in self._describe(changed):
            arn = task["taskArn"]
            known = self.tasks.get(arn)
            if known is None:
                tags = {t["key"]: t["value"] for t in task.get("tags", [])}
                job = tags.get("ecsrunner:job-id")
                known = SimTask(arn, task.get("startedBy", ""), int(job) if job else None)
                self.tasks[arn] = known
                self.started += 1
                events.append(self.event(known))
            if task["desiredStatus"] == "STOPPED" and not known.stopped:
                events.append(self._stop(known, "UserInitiated", task.get("stoppedReason") or "", 143))
        return events

    def forget_calls(self) -> None:
        """Drop the recorder's calls (a long run would keep every one of them)."""
        self.world.recorder.calls.clear()
        self._seen_calls = 0

    def _describe(self, arns: list[str]) -> list[dict[str, Any]]:
        ecs, cluster = self.world.client("ecs"), self.world.settings.cluster_arn
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(arns), 100):
            chunk = arns[start : start + 100]
            for task in ecs.describe_tasks(cluster=cluster, tasks=chunk, include=["TAGS"])["tasks"]:
                found[task["taskArn"]] = task
        return [found[arn] for arn in arns if arn in found]

    def event(self, task: SimTask, **stop: Any) -> dict[str, Any]:
        return ecs_task_event(
            cluster_arn=self.world.settings.cluster_arn,
            task_arn=task.arn,
            last_status=task.status,
            started_by=task.runner_name,
            **stop,
        )

    # --- ECS moving a task on ---------------------------------------------------------------

    def live(self) -> list[SimTask]:
        return [task for task in self.tasks.values() if not task.stopped]

    def online(self) -> list[SimTask]:
        return [
            task for task in self.live() if task.status == "RUNNING" and task.github_runner_id is not None
        ]

    def advance(self, task: SimTask) -> list[dict[str, Any]]:
        """One step of ECS for ``task``; returns the events it emits."""
        if task.stopped:
            return []
        if task.status == "PROVISIONING":
            task.status = "PENDING"
            return [self.event(task)]
        if task.status == "PENDING":
            return self._start_container(task)
        return []

    def _start_container(self, task: SimTask) -> list[dict[str, Any]]:
        found = self.world.jit_object(task.runner_name)
        if found is None:
            reason = (
                "ResourceInitializationError: failed to download env files: "
                f"file not found: jit/{task.runner_name}.env"
            )
            return [self._stop(task, "TaskFailedToStart", reason, None)]
        task.status, task.reached_running = "RUNNING", True
        events = [self.event(task)]
        config = found["Body"].read().decode().rstrip("\n").partition("=")[2]
        try:
            task.github_runner_id = self.world.sim.runner_online(config).id
        except RunnerSimError:  # the registration was deleted: the runner exits with an error
            events.append(self._stop(task, ESSENTIAL_EXITED, "Essential container in task exited", 1))
        return events

    def runner_exits(self, task: SimTask, exit_code: int = 0) -> list[dict[str, Any]]:
        """The runner process ends (after its one job, or on an error): the task stops."""
        if task.stopped:
            return []
        return [self._stop(task, ESSENTIAL_EXITED, "Essential container in task exited", exit_code)]

    def pull_fails(self, task: SimTask) -> list[dict[str, Any]]:
        """The image cannot be pulled (registry throttling, a network path): the task never starts."""
        if task.stopped or task.reached_running:
            return []
        reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s): i/o timeout"
        return [self._stop(task, "TaskFailedToStart", reason, None)]

    def interrupted(self, task: SimTask) -> list[dict[str, Any]]:
        """Fargate Spot takes the capacity back (or the host fails) before the runner took a job."""
        if task.stopped:
            return []
        return [self._stop(task, "SpotInterruption", "Your Spot Task was interrupted.", 143)]

    def _stop(self, task: SimTask, stop_code: str, reason: str, exit_code: int | None) -> dict[str, Any]:
        task.status = "STOPPED"
        if task.github_runner_id is not None:
            self.world.sim.runner_offline(task.github_runner_id)
        ecs, cluster = self.world.client("ecs"), self.world.settings.cluster_arn
        ecs.stop_task(cluster=cluster, task=task.arn, reason=reason[:255])  # a no-op if stopped already
        return self.event(task, stop_code=stop_code, stopped_reason=reason, exit_code=exit_code)

    def by_runner(self, runner_name: str) -> Iterator[SimTask]:
        return (task for task in self.tasks.values() if task.runner_name == runner_name)
