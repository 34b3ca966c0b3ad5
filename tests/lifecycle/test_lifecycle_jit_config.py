"""queued step 4: the JIT config goes to a private SSE-KMS object and reaches the task only as an
``environmentFiles`` entry. It never appears in RunTask, DescribeTasks, events or logs, and the
object is deleted once the runner is RUNNING (task or job) or terminal."""

from __future__ import annotations

import base64
import json

import pytest
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.janitor import run_janitor

from tests.lifecycle.support import World, job_payload


def issued_secret(world: World) -> str:
    (secret,) = world.github.issued_jit_secrets
    return secret


def test_the_jit_config_is_an_sse_kms_environment_file(world: World) -> None:
    record = world.queue_runner()
    found = world.jit_object(record.runner_name)
    assert found is not None
    assert found["ServerSideEncryption"] == "aws:kms"
    assert found["SSEKMSKeyId"] == world.settings.jit_kms_key_arn
    (put,) = world.calls.of("s3.PutObject")
    assert put.params["ServerSideEncryption"] == "aws:kms"
    assert put.params["SSEKMSKeyId"] == world.settings.jit_kms_key_arn
    assert put.params["Key"] == f"jit/{record.runner_name}.env"
    # One line, the variable the runner image's entrypoint reads, with the config GitHub issued.
    encoded = world.jit_config(record.runner_name)
    assert found["Body"].read().decode() == f"ACTIONS_RUNNER_INPUT_JITCONFIG={encoded}\n"
    assert json.loads(base64.b64decode(encoded))["secret"] == issued_secret(world)
    assert world.sim.runner_online(encoded).name == record.runner_name


def test_the_task_gets_the_config_only_as_an_environment_file(world: World) -> None:
    record = world.queue_runner()
    encoded = world.jit_config(record.runner_name)
    (run,) = world.calls.of("ecs.RunTask")
    (container,) = run.params["overrides"]["containerOverrides"]
    assert container["name"] == "runner"
    assert container["environmentFiles"] == [
        {"type": "s3", "value": f"arn:aws:s3:::{world.settings.jit_bucket}/jit/{record.runner_name}.env"}
    ]
    assert "environment" not in container
    assert encoded not in json.dumps(run.params, default=str)
    assert issued_secret(world) not in json.dumps(run.params, default=str)

    described = world.task(record.task_arn or "")
    text = json.dumps(described, default=str)
    assert encoded not in text and issued_secret(world) not in text
    assert described["overrides"]["containerOverrides"][0]["environmentFiles"][0]["type"] == "s3"


def test_the_config_is_never_logged(
    world: World, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level("DEBUG", logger="ecsrunner")
    record = world.queue_runner()
    encoded = world.jit_config(record.runner_name)
    world.task_running(record)
    world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)
    world.task_stopped(record)
    run_janitor(world.deps())
    assert caplog.records, "the flow logs something"
    logged = "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    captured = capsys.readouterr()
    for text in (logged, captured.out, captured.err):
        assert encoded not in text
        assert issued_secret(world) not in text
    # Nor does any value the use cases return or store.
    assert encoded not in json.dumps(world.items(), default=str)


def test_the_object_is_deleted_when_the_task_runs(world: World) -> None:
    record = world.queue_runner()
    assert world.jit_object(record.runner_name) is not None
    world.task_running(record)
    assert world.jit_object(record.runner_name) is None
    assert world.record(record.runner_name).status is RunnerStatus.WAITING_FOR_JOB


def test_the_object_is_deleted_when_the_runner_takes_a_job(world: World) -> None:
    """The job can start before the task's RUNNING event arrives."""
    record = world.queue_runner()
    world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)
    assert world.record(record.runner_name).status is RunnerStatus.RUNNING
    assert world.jit_object(record.runner_name) is None


@pytest.mark.parametrize(
    ("stop_code", "exit_code", "status"),
    [("EssentialContainerExited", 0, RunnerStatus.OFFLINE), ("TaskFailedToStart", None, RunnerStatus.FAILED)],
)
def test_the_object_is_deleted_when_the_runner_ends(
    world: World, stop_code: str, exit_code: int | None, status: RunnerStatus
) -> None:
    record = world.queue_runner()
    world.task_stopped(record, stop_code=stop_code, exit_code=exit_code)
    assert world.record(record.runner_name).status is status
    assert world.jit_object(record.runner_name) is None


def test_the_object_is_deleted_when_the_janitor_fails_the_runner(world: World) -> None:
    record = world.queue_runner()
    world.clock.advance(world.settings.starting_timeout_seconds + 1)
    run_janitor(world.deps())
    assert world.record(record.runner_name).status is RunnerStatus.FAILED
    assert world.jit_object(record.runner_name) is None


def test_a_refused_job_writes_no_object(world: World) -> None:
    job_id = world.next_job_id()
    world.webhook("workflow_job", job_payload("queued", job_id=job_id, labels=["self-hosted", "class:huge"]))
    assert world.calls.of("s3.PutObject") == []
