"""The smallest cases of the bugs the model, the campaign and the fuzzer found, kept as regressions.

Each failed before its fix in the core (see docs/RELIABILITY.md, "Bugs found and fixed").
"""

from __future__ import annotations

import json

import pytest
from ecsrunner_core.adapters.dynamodb_store import MAX_UPDATE_TRIES
from ecsrunner_core.domain.pools import pools_from_json
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.janitor import run_janitor

from tests.lifecycle.support import (
    OUR_LABELS,
    REPO,
    Fault,
    World,
    api_gateway_event,
    client_error,
    github_headers,
    job_payload,
)
from tests.reliability.aws_faults import transaction_conflict
from tests.reliability.fleet import Fleet
from tests.reliability.worlds import fresh_world


def online(fleet: Fleet, runner_name: str) -> int:
    """The runner's task started and running, the runner online in GitHub: its GitHub runner id."""
    fleet.sync()
    task = next(fleet.by_runner(runner_name))
    for _ in range(2):  # PROVISIONING -> PENDING -> RUNNING
        fleet.advance(task)
    assert task.github_runner_id is not None
    return task.github_runner_id


def test_a_transaction_conflict_on_the_job_guard_is_retried(world: World) -> None:
    """Was: TransactionCanceledException escaped, the webhook answered 500, no record: GitHub does not
    redeliver, so the job waited forever."""
    world.calls.faults.append(Fault("dynamodb.TransactWriteItems", transaction_conflict))
    job_id, response = world.queue()
    assert response["statusCode"] == 200
    record = world.record_for_job(job_id)
    assert record is not None and record.task_arn
    assert len(world.calls.of("dynamodb.TransactWriteItems")) == 2  # conflict, then create (with slot)


def test_a_job_that_ran_on_another_jobs_runner_keeps_its_own_runner_for_that_job(world: World) -> None:
    """GitHub gives runner B (launched for job B) job A first. Was: A's completion retired runner A
    as surplus, and job B never got a runner."""
    fleet, sim = Fleet(world), world.sim
    job_a, job_b = (sim.queue_job(world.settings.github_repo or "", ["self-hosted", "linux"]) for _ in "ab")
    for job in (job_a, job_b):
        world.webhook("workflow_job", sim.payload(job, "queued"))
    runner_a, runner_b = world.record_for_job(job_a.id), world.record_for_job(job_b.id)
    assert runner_a is not None and runner_b is not None
    assert sim.assign_job(online(fleet, runner_b.runner_name)) == job_a  # the oldest job GitHub holds
    world.webhook("workflow_job", sim.payload(job_a, "in_progress"))
    sim.complete_job(job_a.id)
    world.webhook("workflow_job", sim.payload(job_a, "completed"))

    assert not world.record(runner_a.runner_name).terminal
    assert sim.assign_job(online(fleet, runner_a.runner_name)) == job_b  # job B runs on runner A


def test_a_runner_that_took_a_job_with_fewer_labels_is_replaced_for_its_own_job(world: World) -> None:
    """GitHub gives runner L (launched for job L, labels ``self-hosted, linux, class:large``) the
    older job S (``self-hosted, linux``): L's labels cover S's. S's own runner cannot run L. Was: job
    L waited until GitHub's queue timeout, and S's runner idled until its WAITING_FOR_JOB timeout."""
    fleet, sim = Fleet(world), world.sim
    repo = world.settings.github_repo or ""
    job_s = sim.queue_job(repo, ["self-hosted", "linux"])
    job_l = sim.queue_job(repo, ["self-hosted", "linux", "class:large"])
    for job in (job_s, job_l):
        world.webhook("workflow_job", sim.payload(job, "queued"))
    runner_s, runner_l = world.record_for_job(job_s.id), world.record_for_job(job_l.id)
    assert runner_s is not None and runner_l is not None
    assert sim.assign_job(online(fleet, runner_l.runner_name)) == job_s  # the oldest its labels cover
    in_progress = sim.payload(job_s, "in_progress")
    for _ in range(2):  # redelivered: still one replacement
        world.webhook("workflow_job", in_progress)

    assert world.record(runner_s.runner_name).status is RunnerStatus.OFFLINE  # left over, retired
    replacement = world.record_for_job(job_l.id)
    assert replacement is not None and replacement.replaces == runner_l.runner_name
    assert set(replacement.labels) == set(job_l.labels)
    assert len([item for item in world.runner_items() if item["job_id"] == job_l.id]) == 2
    assert sim.assign_job(online(fleet, replacement.runner_name)) == job_l  # on its replacement


def test_a_task_whose_stop_failed_is_stopped_by_the_same_janitor_run(world: World) -> None:
    """Was: the runner went FAILED (STARTING timeout) but StopTask failed, and the orphan sweep
    skipped the task because the runner had been active when the run started."""
    record = world.queue_runner()
    world.calls.faults.append(
        Fault("ecs.StopTask", client_error("ServerException", "Service Unavailable.", 500))
    )
    world.clock.advance(world.settings.starting_timeout_seconds + 1)
    report = run_janitor(world.deps())
    assert report.timed_out == 1 and report.orphan_tasks_stopped == 1
    assert world.record(record.runner_name).status is RunnerStatus.FAILED
    assert world.tasks("RUNNING") == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", 10**100), ("name", "build \ud800"), ("labels", ["self-hosted"] * 50_000)],
    ids=["100-digit job id", "lone surrogate", "50,000 labels"],
)
def test_signed_payloads_that_cannot_be_stored_are_refused(world: World, field: str, value: object) -> None:
    """Was: 500 (decimal.Rounded, a UnicodeEncodeError in botocore, DynamoDB's 400 KB item limit)."""
    payload = job_payload("queued", job_id=world.next_job_id())
    payload["workflow_job"][field] = value
    response = world.webhook("workflow_job", json.dumps(payload).encode())
    assert response["statusCode"] == 400 and "malformed workflow_job payload" in response["body"]
    assert world.items() == []


def test_a_body_flagged_base64_that_is_not_ascii_is_refused(world: World) -> None:
    """Was: ValueError from b64decode escaped (500)."""
    from ecsrunner_core.usecases.dispatch import handle_control_plane_event

    event = api_gateway_event(b"", github_headers("workflow_job", b"", None, "d-1"))
    event.update(body="\x80", isBase64Encoded=True)
    assert handle_control_plane_event(world.deps(), event)["statusCode"] == 400


def _is_pool_runner_create(params: dict[str, object]) -> bool:
    items = params.get("TransactItems") or []
    first = items[0] if isinstance(items, list) and items else {}
    return "pool" in first.get("Put", {}).get("Item", {})


@pytest.mark.parametrize("conflicts", [1, 10])
def test_a_transaction_conflict_on_a_warm_pool_refill_fails_no_delivery(conflicts: int) -> None:
    """Was (found by the 500-job pools campaign): a ``TransactionConflict`` on the capacity counter
    while a refill created its warm runner escaped the ``in_progress`` delivery. Now a conflict is
    retried, and a refill that still fails leaves the pool to the janitor; the delivery succeeds."""
    pools = pools_from_json('{"medium": {"class": "medium", "size": 1}}')
    with fresh_world(warm_pools=pools) as world:
        assert run_janitor(world.deps()).errors == []
        (warm,) = [world.record(i["runner_name"]) for i in world.runner_items() if i.get("pool")]
        world.sim.runner_online(world.jit_config(warm.runner_name))
        world.task_running(world.record(warm.runner_name))
        job = world.sim.queue_job(REPO, list(OUR_LABELS))
        runner = world.github.state.runner_named(f"repos/{REPO}", warm.runner_name)
        assert runner is not None and world.sim.assign_job(runner.id) == job
        fault = Fault("dynamodb.TransactWriteItems", transaction_conflict, _is_pool_runner_create, conflicts)
        world.calls.faults.append(fault)

        response = world.webhook("workflow_job", world.sim.payload(job, "in_progress"))

        assert response["statusCode"] == 200
        assert world.record(warm.runner_name).status is RunnerStatus.RUNNING
        refills = [i for i in world.runner_items() if i.get("pool") and i["runner_name"] != warm.runner_name]
        assert fault.fired == min(conflicts, MAX_UPDATE_TRIES)
        assert len(refills) == (1 if conflicts == 1 else 0)
        if conflicts > 1:
            assert run_janitor(world.deps()).warm_runners_added == 1  # the janitor refills it
