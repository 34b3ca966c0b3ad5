"""A deployment on a moto server with a long history: many terminal runner records, 105 active ones.

Records are in the store's own item format (``ecsrunner_core.adapters.dynamodb_codec.runner_to_item``),
as the control plane would have left them:
terminal runners OFFLINE (9 in 10) or FAILED with their history, spread over the 30-day record
retention; active runners created in the last few minutes, each with a task that runs in moto's ECS
(the janitor ends a runner whose task ECS does not know, as a lost STOPPED event), plus a few STARTING
runners without a task that wait for a retry due later (they sit in the sparse waiting index). The
server (moto with the patches of :mod:`ecsrunner_sandbox.moto_patches`) is shared by the janitor and the CLI
benchmarks (``Context.shared``) and grows from one history size to the next. The deployment is named
``bench`` so that nothing else that might reach the server by mistake shares its table or cluster.

The first ``API_SAMPLE`` records are written with ``BatchWriteItem`` (25 per request), which measures the
API write rate; the rest are loaded through the server's bulk-load hook (same items, straight into moto's
backend), because the API path runs at a few hundred items per second here.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from ecsrunner_core.adapters.dynamodb_codec import runner_to_item
from ecsrunner_core.domain.names import new_runner_name
from ecsrunner_core.domain.runner import HistoryEntry, RunnerRecord
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn
from ecsrunner_sandbox.moto_patches import BULK_LOAD_PATH, start_patched_server

from .report import Context
from .sandbox import REGION, REPOSITORY, Sandbox, aws_environment, new_session, open_sandbox

DEPLOYMENT_NAME = "bench"
API_SAMPLE = 2_000
LOAD_CHUNK = 5_000
BATCH = 25
RETENTION = timedelta(days=30)
# Active runners: what a fleet of 100 busy runners looks like to the status index.
ACTIVE_MIX = {RunnerStatus.RUNNING: 80, RunnerStatus.WAITING_FOR_JOB: 10, RunnerStatus.STARTING: 10}
# STARTING runners without a task whose launch failed and is retried later (not due during the run).
WAITING_FOR_RETRY = 5
RETRY_LATER = timedelta(hours=6)
TASKS_PER_RUN_TASK = 10  # RunTask's own limit per call
SHARED_KEY = "history-world"


def _record(
    prefix: str, job_id: int, status: RunnerStatus, created: datetime, account: str, task: str | None = None
) -> RunnerRecord:
    name = new_runner_name(prefix)
    task = task or f"arn:aws:ecs:us-east-1:{account}:task/{prefix}-runners/{job_id:032x}"
    path = [
        (RunnerStatus.STARTING, 0, f"job {job_id} queued"),
        (RunnerStatus.WAITING_FOR_JOB, 40, "task running"),
        (RunnerStatus.RUNNING, 45, f"running job {job_id}"),
    ]
    if status is RunnerStatus.OFFLINE:
        steps = [*path, (status, 600, f"task stopped after job {job_id} (EssentialContainerExited)")]
    elif status is RunnerStatus.FAILED:
        steps = [path[0], (status, 900, "task not RUNNING within the STARTING timeout of 900s")]
    else:
        steps = path[: [step[0] for step in path].index(status) + 1]
    history = tuple(
        HistoryEntry(s, created + timedelta(seconds=offset), reason) for s, offset, reason in steps
    )
    ran = status in (RunnerStatus.RUNNING, RunnerStatus.OFFLINE)
    return RunnerRecord(
        runner_name=name,
        job_id=job_id,
        repository=REPOSITORY,
        labels=("self-hosted", "linux"),
        status=status,
        status_reason=history[-1].reason,
        created_at=created,
        updated_at=history[-1].at,
        history=history,
        class_name="medium",
        image="docker.io/library/ubuntu:22.04",
        image_tag="ubuntu-x86_64-" + "0" * 40,
        architecture="x86_64",
        run_id=2_202_229_078,
        run_url=f"https://api.github.com/repos/{REPOSITORY}/actions/runs/2202229078",
        workflow_name="CI",
        job_name="build",
        run_job_id=job_id if ran else None,
        run_job_repository=REPOSITORY if ran else None,
        conclusion="success" if status is RunnerStatus.OFFLINE else None,
        task_arn=task,
        github_runner_id=job_id % 1_000_000,
        holds_slot=not status.terminal,
        version=len(history) + 2,
    )


def _item(record: RunnerRecord, expires: int | None) -> dict[str, Any]:
    return runner_to_item(record, expires if record.terminal else None)


@dataclass
class HistoryWorld:
    endpoint_url: str
    sandbox: Sandbox
    now: datetime
    terminal: int = 0
    active: int = 0
    write_seconds: float = 0.0  # BatchWriteItem
    items_written: int = 0
    load_seconds: float = 0.0  # the server's bulk-load hook
    items_loaded: int = 0
    _job_ids: Iterator[int] = field(default_factory=lambda: itertools.count(8_000_000_000))

    @property
    def active_by_status(self) -> dict[str, int]:
        if not self.active:
            return {}
        found = {status.value: count for status, count in ACTIVE_MIX.items()}
        found[RunnerStatus.STARTING.value] += WAITING_FOR_RETRY
        return found

    @property
    def waiting_for_retry(self) -> int:
        return WAITING_FOR_RETRY if self.active else 0

    def environment(self) -> AbstractContextManager[None]:
        return aws_environment(self.endpoint_url)

    def _write(self, records: Iterator[RunnerRecord], expires: int | None) -> None:
        self._write_api(itertools.islice(records, max(API_SAMPLE - self.items_written, 0)), expires)
        self._load(records, expires)

    def _load(self, records: Iterator[RunnerRecord], expires: int | None) -> None:
        """Build the next chunk while the server loads the previous one."""
        table = self.sandbox.settings.runner_table
        started = time.perf_counter()
        with requests.Session() as http, ThreadPoolExecutor(max_workers=1) as poster:

            def post(chunk: list[dict[str, Any]]) -> int:
                body = json.dumps({"region": REGION, "table": table, "items": chunk})
                response = http.post(self.endpoint_url + BULK_LOAD_PATH, data=body, timeout=600)
                response.raise_for_status()
                return len(chunk)

            pending: Future[int] | None = None
            while True:
                chunk = [_item(r, expires) for r in itertools.islice(records, LOAD_CHUNK)]
                if pending is not None:
                    self.items_loaded += pending.result()
                    pending = None
                if not chunk:
                    break
                pending = poster.submit(post, chunk)
        self.load_seconds += time.perf_counter() - started

    def _write_api(self, records: Iterator[RunnerRecord], expires: int | None) -> None:
        db = new_session().client("dynamodb")
        table = self.sandbox.settings.runner_table
        started = time.perf_counter()
        while True:
            chunk = list(itertools.islice(records, BATCH))
            if not chunk:
                break
            puts = [
                {"PutRequest": {"Item": runner_to_item(r, expires if r.terminal else None)}} for r in chunk
            ]
            requests: dict[str, Any] = {table: puts}
            while requests:
                requests = db.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            self.items_written += len(chunk)
        self.write_seconds += time.perf_counter() - started

    def _run_tasks(self, count: int) -> list[str]:
        """``count`` tasks of the deployment's base task definition, running in moto's ECS."""
        settings = self.sandbox.settings
        ecs = new_session().client("ecs")
        arns: list[str] = []
        while len(arns) < count:
            tasks = ecs.run_task(
                cluster=settings.cluster_arn,
                taskDefinition=settings.base_task_definition_arn,
                launchType="FARGATE",
                count=min(TASKS_PER_RUN_TASK, count - len(arns)),
                startedBy="bench-history",
                networkConfiguration={
                    "awsvpcConfiguration": {
                        "subnets": list(settings.subnet_ids),
                        "securityGroups": list(settings.security_group_ids),
                    }
                },
            )["tasks"]
            arns.extend(task["taskArn"] for task in tasks)
        return arns

    def add_active(self) -> None:
        account = self.sandbox.deployment.account
        prefix = self.sandbox.settings.name
        with self.environment():
            tasks = iter(self._run_tasks(sum(ACTIVE_MIX.values())))
            records = [
                _record(
                    prefix,
                    next(self._job_ids),
                    status,
                    self.now - timedelta(minutes=5 + i % 7),
                    account,
                    next(tasks),
                )
                for status, count in ACTIVE_MIX.items()
                for i in range(count)
            ]
            records += [self._waiting_for_retry(prefix, account, i) for i in range(WAITING_FOR_RETRY)]
            self._write(iter(records), None)
        self.active = len(records)

    def _waiting_for_retry(self, prefix: str, account: str, index: int) -> RunnerRecord:
        created = self.now - timedelta(minutes=3 + index)
        record = _record(prefix, next(self._job_ids), RunnerStatus.STARTING, created, account)
        return replace(
            record,
            task_arn=None,
            github_runner_id=None,
            holds_slot=False,
            attempts=1,
            last_error="RunTask: capacity is unavailable at this time",
            next_attempt_at=self.now + RETRY_LATER,
        )

    def grow_to(self, terminal: int) -> None:
        """Add terminal records until there are ``terminal`` of them, spread over the retention period."""
        if terminal <= self.terminal:
            return
        account = self.sandbox.deployment.account
        prefix = self.sandbox.settings.name
        span = RETENTION.total_seconds()

        def records() -> Iterator[RunnerRecord]:
            for i in range(self.terminal, terminal):
                status = RunnerStatus.FAILED if i % 10 == 9 else RunnerStatus.OFFLINE
                created = self.now - timedelta(seconds=600 + (i * 7919) % int(span))
                yield _record(prefix, next(self._job_ids), status, created, account)

        expires = int((self.now + RETENTION).timestamp())
        with self.environment():
            self._write(records(), expires)
        self.terminal = terminal


def history_world(ctx: Context) -> HistoryWorld:
    """The shared seeded server (started on first use, stopped when the run ends)."""
    world = ctx.shared.get(SHARED_KEY)
    if world is None:
        server = start_patched_server()
        ctx.stack.callback(server.stop)
        standin = ctx.stack.enter_context(GitHubStandIn(pat=DEFAULT_PAT))
        with aws_environment(server.endpoint_url):
            sandbox = open_sandbox(standin, server.endpoint_url, name=DEPLOYMENT_NAME)
        world = HistoryWorld(server.endpoint_url, sandbox, datetime.now(UTC))
        world.add_active()
        ctx.shared[SHARED_KEY] = world
    assert isinstance(world, HistoryWorld)
    return world
