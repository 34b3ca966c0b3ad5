"""No secret leaks: the PAT, the webhook secret, an App private key, installation tokens and every JIT
config (and the secret inside it) stay out of log lines, tracebacks, runner records (``status_reason``,
``last_error``, history), every AWS request the code makes (CloudTrail records most of them) but the
JIT object's own body, the ECS tasks (overrides, tags, stop reasons) and metrics.

Each test drives the lifecycle and its failure paths, capturing everything ``ecsrunner`` logs at
DEBUG and the rest at WARNING (Python's default root level), then searches it all.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from ecsrunner_core.adapters.github import GitHubClient, PatAuth
from ecsrunner_core.adapters.github.auth import credentials_from_secret
from ecsrunner_core.usecases.janitor import run_janitor
from ecsrunner_sandbox.github_faults import server_error
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, StandInApp

from tests.handlers.conftest import FakeLambdaContext, Handlers, settings_env
from tests.lifecycle.support import (
    JIT_OPERATIONS,
    REPO,
    Fault,
    SimulatedCrash,
    World,
    api_gateway_event,
    client_error,
    crash,
    ecs_task_event,
    fixture_json,
    github_headers,
    job_payload,
)
from tests.reliability.leaks import Haystack, Secrets
from tests.reliability.worlds import fresh_world

REVOKED_PAT = "ghp_revokedTokenThatGitHubRefuses000000000"
APP_ID = 4711
ARN = re.compile(r"^arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$")


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.WARNING)
    caplog.set_level(logging.DEBUG, logger="ecsrunner")
    yield caplog


def secrets_of(world: World) -> Secrets:
    found = Secrets()
    found.add("webhook secret", world.deployment.webhook_secret)
    found.add("the PAT", DEFAULT_PAT)
    found.add("a revoked PAT", REVOKED_PAT)
    return found


def happy_path(world: World) -> None:
    record = world.queue_runner()
    world.task_running(world.record(record.runner_name))
    world.job_event("in_progress", job_id=record.job_id, runner_name=record.runner_name)
    world.job_event("completed", job_id=record.job_id, runner_name=record.runner_name)
    world.task_stopped(world.record(record.runner_name))


def failure_paths(world: World) -> None:
    # Refused labels, forged and unsigned webhooks.
    world.queue(["self-hosted", "class:nope"])
    world.webhook("workflow_job", job_payload("queued", job_id=world.next_job_id()), signed=False)
    body = json.dumps(job_payload("queued", job_id=world.next_job_id())).encode()
    forged = github_headers("workflow_job", body, b"not-the-secret", "d-forged")
    from ecsrunner_core.usecases.dispatch import handle_control_plane_event

    handle_control_plane_event(world.deps(), api_gateway_event(body, forged))
    # GitHub down beyond the retry budget: the error lands in last_error and a warning.
    world.github.faults.set_rate(1.0, [server_error(502)], operations=JIT_OPERATIONS)
    retried = world.queue_runner()
    world.github.faults.clear()
    # The environment file cannot be written: retried, logged with its traceback.
    world.calls.faults.append(Fault("s3.PutObject", client_error("InternalError", "internal error", 500)))
    world.queue_runner()
    # RunTask refused: FAILED with ECS's message, registration cleaned up.
    world.calls.faults.append(Fault("ecs.RunTask", client_error("InvalidParameterException", "bad request")))
    world.queue_runner()
    # A task that stops before a job: FAILED with ECS's stop reason.
    stopped = world.queue_runner()
    world.task_stopped(
        stopped,
        stop_code="TaskFailedToStart",
        stopped_reason="CannotPullContainerError: pull image manifest has been retried 5 time(s)",
        exit_code=None,
    )
    # A launch killed after RunTask, adopted by the janitor after the lease.
    world.calls.faults.append(Fault("dynamodb.PutItem", crash, when=lambda p: "task_arn" in p["Item"]))
    with pytest.raises(SimulatedCrash):
        world.webhook("workflow_job", job_payload("queued", job_id=world.next_job_id()))
    # Credentials GitHub refuses: GitHubAuthError in last_error.
    good = world.services.github
    world.services.github = GitHubClient(world.github.api_url, PatAuth(REVOKED_PAT), scope_repo=REPO)
    world.queue_runner()
    world.services.github = good
    # The janitor: retries, adoption, WAITING_FOR_JOB timeouts, TTL, orphan sweeps.
    for seconds in (301, 1801, 7201):
        world.clock.advance(seconds)
        run_janitor(world.deps())
    assert world.record(retried.runner_name).attempts >= 1


def assert_nothing_leaked(world: World, secrets: Secrets, haystack: Haystack) -> None:
    assert len(secrets.values) > 10, secrets.values.keys()
    haystack.add_world(world)
    assert haystack.findings(secrets) == []


def test_no_secret_in_logs_records_requests_or_tasks(world: World, logs: pytest.LogCaptureFixture) -> None:
    happy_path(world)
    failure_paths(world)
    secrets = secrets_of(world)
    assert secrets.add_jit_configs(world) >= 6
    haystack = Haystack()
    assert haystack.add_log_records(logs.records) > 20
    assert any(record.levelno >= logging.WARNING for record in logs.records)
    assert any(record.exc_info for record in logs.records)  # tracebacks were searched too
    assert_nothing_leaked(world, secrets, haystack)
    # The environment file is the one place a JIT config is written, and it is never in a task.
    (put, *_) = world.calls.of("s3.PutObject")
    assert bytes(put.params["Body"]).startswith(b"ACTIONS_RUNNER_INPUT_JITCONFIG=")
    (run, *_) = world.calls.of("ecs.RunTask")
    files = run.params["overrides"]["containerOverrides"][0]["environmentFiles"]
    assert files[0]["value"].startswith("arn:aws:s3:::")
    assert set(run.params["overrides"]["containerOverrides"][0]) == {"name", "environmentFiles"}


def test_no_app_key_or_installation_token_leaks(logs: pytest.LogCaptureFixture) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    credentials = json.dumps({"type": "app", "app_id": APP_ID, "private_key": pem})
    app = StandInApp(APP_ID, key.public_key())
    with fresh_world(standin={"pat": None, "app": app}, github_credentials=credentials) as world:
        # The production path: the credentials secret read from Secrets Manager and parsed.
        now = lambda: world.clock.now().timestamp()  # noqa: E731
        world.services.github = GitHubClient(
            world.github.api_url,
            credentials_from_secret(world.deps().secrets.github_credentials(), clock=now),
            scope_repo=REPO,
            sleep=world.github_time.sleep,
            clock=world.github_time.monotonic,
            wall_clock=now,
        )
        happy_path(world)
        world.github.revoke_installation_tokens()  # a key rotation: tokens refused, then re-minted
        failure_paths(world)
        assert world.github.minted_tokens and world.github.app_jwt_claims
        secrets = secrets_of(world)
        secrets.add_pem("App private key", pem)
        secrets.add("credentials secret", credentials)
        secrets.add_jit_configs(world)
        haystack = Haystack()
        haystack.add_log_records(logs.records)
        assert_nothing_leaked(world, secrets, haystack)


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_handlers_log_no_secret_even_at_debug(handlers: Handlers) -> None:
    """Powertools JSON lines on stdout (what CloudWatch keeps), with the log level at DEBUG."""
    from ecsrunner_lambda.control_plane import handler
    from ecsrunner_lambda.janitor import handler as janitor
    from ecsrunner_lambda.observability import logger

    logger.setLevel("DEBUG")
    try:
        _drive_handlers(handlers, handler, janitor)
    finally:
        logger.setLevel("INFO")
    out = handlers.capsys.readouterr()
    lines = [json.loads(line) for line in out.out.splitlines() if line.startswith("{")]
    assert any(line.get("level") == "WARNING" for line in lines)
    secrets = Secrets()
    secrets.add("webhook secret", handlers.deployment.webhook_secret)
    secrets.add("the PAT", DEFAULT_PAT)
    for index, secret in enumerate(handlers.github.issued_jit_secrets):
        secrets.add(f"JIT secret {index}", secret)
    assert len(handlers.github.issued_jit_secrets) >= 2
    haystack = Haystack()
    haystack.add("stdout", out.out)
    haystack.add("stderr", out.err)
    assert haystack.findings(secrets) == []


def _drive_handlers(handlers: Handlers, handler: Any, janitor: Any) -> None:
    secret = handlers.deployment.webhook_secret.encode()

    def deliver(payload: dict[str, Any], key: bytes | None = secret) -> dict[str, Any]:
        body = json.dumps(payload).encode()
        response: dict[str, Any] = handler(
            api_gateway_event(body, github_headers("workflow_job", body, key, "d-1")), FakeLambdaContext()
        )
        return response

    accepted = json.loads(deliver(job_payload("queued", job_id=901))["body"])
    name = accepted["runner"]
    task = _task_of(handlers, name)
    cluster = handlers.settings.cluster_arn
    running = ecs_task_event(cluster_arn=cluster, task_arn=task, last_status="RUNNING", started_by=name)
    handler(running, FakeLambdaContext())
    deliver(job_payload("in_progress", job_id=901, runner_name=name))
    handler(
        ecs_task_event(
            cluster_arn=cluster,
            task_arn=task,
            last_status="STOPPED",
            started_by=name,
            stop_code="EssentialContainerExited",
            stopped_reason="Essential container in task exited",
            exit_code=0,
        ),
        FakeLambdaContext(),
    )
    deliver(job_payload("queued", job_id=902), key=b"forged")
    handlers.github.faults.set_rate(1.0, [server_error(500)], operations=JIT_OPERATIONS)
    deliver(job_payload("queued", job_id=903))  # launch fails: a warning with the error
    handlers.github.faults.clear()
    janitor(
        fixture_json("aws/events/scheduled-event.docs.json"), FakeLambdaContext(function_name="ecsr-janitor")
    )
    deliver(job_payload("queued", job_id=904))


def _task_of(handlers: Handlers, runner_name: str) -> str:
    from tests.lifecycle.support import new_session

    ecs = new_session().client("ecs")
    arns = ecs.list_tasks(cluster=handlers.settings.cluster_arn, startedBy=runner_name)["taskArns"]
    assert len(arns) == 1
    return str(arns[0])


def test_the_functions_environment_holds_arns_not_secrets(world: World) -> None:
    """What ``provision`` (like the Terraform module) gives the functions: secret ARNs only."""
    env = settings_env(world.settings)
    assert ARN.match(env["WEBHOOK_SECRET_ARN"]) and ARN.match(env["GITHUB_CREDENTIALS_SECRET_ARN"])
    assert ARN.match(env["JIT_KMS_KEY_ARN"])
    secrets = secrets_of(world)
    secrets.add("credentials secret", world.deployment.github_credentials)
    haystack = Haystack()
    haystack.add("environment", env)
    haystack.add("settings", repr(world.settings))
    haystack.add("services", repr(world.deps()))
    assert haystack.findings(secrets) == []
