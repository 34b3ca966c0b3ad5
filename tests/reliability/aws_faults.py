"""Faults at the botocore boundary of the code under test, built on the lifecycle ``AwsRecorder``.

* RunTask: throttling and server errors, capacity ``failures[]``, and a response lost after ECS
  started the task.
* DynamoDB: genuine version conflicts (another writer bumps the record between the store's read and
  its conditional put) and ``TransactionConflict`` cancellations of transactions.
* Crashes: :class:`~tests.lifecycle.support.SimulatedCrash` (a ``BaseException``, as a Lambda
  timeout would end the invocation) raised before the N-th AWS call of an invocation.

Random faults draw from one seeded ``random.Random``, so a run repeats exactly.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.lifecycle.support import AwsRecorder, Fault, SimulatedCrash, World, aws_response

CAPACITY_REASON = (
    "Capacity is unavailable at this time. Please try again later or in a different availability zone"
)
# Every operation the control plane and the janitor call: a crash may come before any of them.
CODE_OPERATIONS = (
    "dynamodb.GetItem",
    "dynamodb.PutItem",
    "dynamodb.TransactWriteItems",
    "dynamodb.Query",
    "dynamodb.DeleteItem",
    "ecs.RunTask",
    "ecs.StopTask",
    "ecs.ListTasks",
    "ecs.DescribeTasks",
    "ecs.DescribeTaskDefinition",
    "ecs.RegisterTaskDefinition",
    "s3.PutObject",
    "s3.DeleteObject",
    "ecr.DescribeImages",
    "codebuild.StartBuild",
    "codebuild.BatchGetBuilds",
    "secretsmanager.GetSecretValue",
    "ssm.GetParameter",
)
CREATE_CALL = "dynamodb.TransactWriteItems"
MANY = 10**12


def _error(code: str, message: str, status: int, **extra: Any) -> Any:
    return aws_response({"Error": {"Code": code, "Message": message}, **extra}, status)


def runtask_throttled(params: dict[str, Any]) -> Any:
    return _error("ThrottlingException", "Rate exceeded", 400)


def runtask_server_error(params: dict[str, Any]) -> Any:
    return _error("ServerException", "Service Unavailable. Please try again later.", 500)


def runtask_capacity_failure(params: dict[str, Any]) -> Any:
    failure = {"arn": params.get("cluster", ""), "reason": CAPACITY_REASON}
    return aws_response({"tasks": [], "failures": [failure]})


def runtask_eni_failure(params: dict[str, Any]) -> Any:
    return aws_response(
        {"tasks": [], "failures": [{"arn": params.get("cluster", ""), "reason": "RESOURCE:ENI"}]}
    )


def transaction_conflict(params: dict[str, Any]) -> Any:
    """What DynamoDB answers when another transaction holds one of the items."""
    items = params.get("TransactItems", [])
    codes = ["TransactionConflict"] + ["None"] * (len(items) - 1)
    reasons = [{"Code": code, "Message": "Transaction is ongoing for the item"} for code in codes]
    message = (
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{', '.join(codes)}]"
    )
    return _error("TransactionCanceledException", message, 400, CancellationReasons=reasons)


def is_versioned_put(params: dict[str, Any]) -> bool:
    return params.get("ConditionExpression") == "version = :v"


def lose_runtask_answer(world: World, started: list[str]) -> Callable[[dict[str, Any]], Any]:
    """ECS starts the task, but its answer never arrives (a timeout on the way back): the task's ARN
    goes to ``started`` (nobody else sees it), the caller gets a ServerException."""

    def action(params: dict[str, Any]) -> Any:
        answer = world.client("ecs").run_task(**params)
        started.extend(task["taskArn"] for task in answer.get("tasks", []))
        return runtask_server_error(params)

    return action


def write_first(world: World) -> Callable[[dict[str, Any]], None]:
    """Another invocation updates the record between the store's read and its conditional put, so
    the put really fails its version condition (the call then goes on to moto)."""

    def action(params: dict[str, Any]) -> None:
        world.client("dynamodb").update_item(
            TableName=params["TableName"],
            Key={"pk": params["Item"]["pk"]},
            UpdateExpression="SET version = version + :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    return action


@dataclass
class FaultCounts:
    """How many faults of each kind fired."""

    fired: Counter[str] = field(default_factory=Counter)

    def note(self, kind: str) -> None:
        self.fired[kind] += 1


class RandomAwsFaults:
    """Seeded random faults on RunTask and on DynamoDB writes (see the module docstring)."""

    RUNTASK_FAULTS: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
        ("RunTask ThrottlingException", runtask_throttled),
        ("RunTask ServerException", runtask_server_error),
        ("RunTask failures[] capacity", runtask_capacity_failure),
        ("RunTask failures[] RESOURCE:ENI", runtask_eni_failure),
    )

    def __init__(
        self,
        world: World,
        rng: random.Random,
        *,
        runtask_rate: float,
        conflict_rate: float,
        lost_rate: float,
        started_unseen: list[str],
        crash_first_builds: int = 0,
    ) -> None:
        self.world = world
        self.rng = rng
        self.runtask_rate = runtask_rate
        self.conflict_rate = conflict_rate
        self.lost_rate = lost_rate
        self.crash_first_builds = crash_first_builds
        self.counts = FaultCounts()
        self.enabled = True
        self.started_unseen = started_unseen  # tasks started by a RunTask whose answer was lost

    def install(self, recorder: AwsRecorder) -> None:
        recorder.faults.extend(
            [
                Fault("ecs.RunTask", self._runtask_fault, when=self._draw(self.runtask_rate), times=MANY),
                Fault("ecs.RunTask", self._lost_response, when=self._draw(self.lost_rate), times=MANY),
                Fault("dynamodb.PutItem", self._concurrent_bump, when=self._versioned_draw, times=MANY),
                Fault(
                    "dynamodb.TransactWriteItems",
                    self._conflict,
                    when=self._draw(self.conflict_rate),
                    times=MANY,
                ),
                Fault(
                    "codebuild.StartBuild",
                    self._crash_holding_the_build_lock,
                    when=lambda params: self.enabled,
                    times=self.crash_first_builds,
                ),
            ]
        )

    def _draw(self, rate: float) -> Callable[[dict[str, Any]], bool]:
        return lambda params: self.enabled and self.rng.random() < rate

    def _versioned_draw(self, params: dict[str, Any]) -> bool:
        return self.enabled and is_versioned_put(params) and self.rng.random() < self.conflict_rate

    def _runtask_fault(self, params: dict[str, Any]) -> Any:
        kind, action = self.rng.choice(self.RUNTASK_FAULTS)
        self.counts.note(kind)
        return action(params)

    def _lost_response(self, params: dict[str, Any]) -> Any:
        self.counts.note("RunTask response lost after the task started")
        return lose_runtask_answer(self.world, self.started_unseen)(params)

    def _concurrent_bump(self, params: dict[str, Any]) -> None:
        self.counts.note("DynamoDB version conflict")
        write_first(self.world)(params)

    def _crash_holding_the_build_lock(self, params: dict[str, Any]) -> Any:
        """The invocation dies after it took the image's build lock, before StartBuild."""
        self.counts.note("crash between the build lock and StartBuild")
        raise SimulatedCrash

    def _conflict(self, params: dict[str, Any]) -> Any:
        self.counts.note("DynamoDB TransactionConflict")
        return transaction_conflict(params)


class CrashCountdown:
    """Raises ``SimulatedCrash`` before the N-th AWS call once armed (optionally counting only calls
    after the runner record's create has returned, so that an accepted job is what gets
    interrupted)."""

    def __init__(self) -> None:
        self.remaining: int | None = None
        self.after_create = False
        self._counting = False
        self._create_seen = False
        self.crashes = 0

    def install(self, recorder: AwsRecorder) -> None:
        # First in the list: a crash comes before any other fault of the same call.
        recorder.faults[:0] = [
            Fault(op, self._crash, when=self._tick(op), times=MANY) for op in CODE_OPERATIONS
        ]

    def arm(self, calls: int, *, after_create: bool = False) -> None:
        self.remaining, self.after_create, self._counting = calls, after_create, not after_create
        self._create_seen = False

    def disarm(self) -> None:
        self.remaining = None

    def _tick(self, operation: str) -> Callable[[dict[str, Any]], bool]:
        def tick(params: dict[str, Any]) -> bool:
            if self.remaining is None:
                return False
            if not self._counting:
                # The create goes through, retried ones too (a TransactionConflict): counting starts
                # with the first other call, when the create has returned.
                if operation == CREATE_CALL or not self._create_seen:
                    self._create_seen = self._create_seen or operation == CREATE_CALL
                    return False
                self._counting = True
            self.remaining -= 1
            return self.remaining <= 0

        return tick

    def _crash(self, params: dict[str, Any]) -> Any:
        self.remaining = None
        self.crashes += 1
        raise SimulatedCrash


@contextmanager
def installed(recorder: AwsRecorder, *fault_sets: RandomAwsFaults | CrashCountdown) -> Iterator[None]:
    before = list(recorder.faults)
    for fault_set in fault_sets:
        fault_set.install(recorder)
    try:
        yield
    finally:
        recorder.faults[:] = before
