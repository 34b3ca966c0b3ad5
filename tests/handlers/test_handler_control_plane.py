"""``ecsrunner_lambda.control_plane.handler`` as Lambda runs it: environment from the deployment's
settings, secrets from Secrets Manager, the real GitHub client; Powertools JSON logs with
correlation keys and EMF metrics on stdout."""

from __future__ import annotations

import base64
import json
from typing import Any

from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.webhook import sign

from tests.handlers.conftest import FakeLambdaContext, Handlers, logs, metric_names
from tests.lifecycle.support import api_gateway_event, ecs_task_event, github_headers, job_payload

DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"


def webhook(handlers: Handlers, payload: dict[str, Any], *, secret: str | None = None) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    key = (secret or handlers.deployment.webhook_secret).encode()
    return api_gateway_event(
        body, github_headers("workflow_job", body, key, DELIVERY), request_id="Jz8wYhJ0IAMEb6A="
    )


def invoke(event: dict[str, Any], context: FakeLambdaContext) -> dict[str, Any]:
    from ecsrunner_lambda.control_plane import handler

    response: dict[str, Any] = handler(event, context)
    return response


def runner_record(handlers: Handlers, job_id: int) -> dict[str, Any]:
    from ecsrunner_core.adapters.dynamodb_codec import deserialize

    from tests.lifecycle.support import new_session

    db = new_session().client("dynamodb")
    guard = db.get_item(TableName=handlers.settings.runner_table, Key={"pk": {"S": f"JOB#{job_id}"}})["Item"]
    name = guard["runner_name"]["S"]
    item = db.get_item(TableName=handlers.settings.runner_table, Key={"pk": {"S": f"RUNNER#{name}"}})["Item"]
    return deserialize(item)


def test_a_queued_webhook_launches_a_runner_and_logs_with_correlation_keys(
    handlers: Handlers, context: FakeLambdaContext
) -> None:
    response = invoke(webhook(handlers, job_payload("queued", job_id=4242)), context)
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["outcome"] == "accepted"
    record = runner_record(handlers, 4242)
    assert record["status"] == RunnerStatus.STARTING and record["task_arn"]
    assert handlers.github.calls_to("POST", "/repos/octo-org/octo-repo/actions/runners/generate-jitconfig")

    lines = handlers.output()
    accepted = [line for line in logs(lines) if "accepted as runner" in line["message"]]
    assert len(accepted) == 1
    line = accepted[0]
    assert line["github_delivery"] == DELIVERY
    assert line["correlation_id"] == "Jz8wYhJ0IAMEb6A="
    assert line["job_id"] == 4242 and line["runner_name"] == body["runner"]
    assert line["function_request_id"] == context.aws_request_id
    assert line["level"] == "INFO" and line["service"] == "ecsrunner"
    launched = [line for line in logs(lines) if "launched as" in line["message"]]
    assert launched and launched[0]["runner_name"] == body["runner"]

    metrics = metric_names(lines)
    assert metrics["RunnersLaunched"][0] == [1.0]
    assert metrics["RunnersLaunched"][2] == "ecsrunner"
    assert "RunnersAccepted" in metrics and "LaunchLatency" in metrics


def test_the_jit_config_never_reaches_stdout(handlers: Handlers, context: FakeLambdaContext) -> None:
    invoke(webhook(handlers, job_payload("queued", job_id=4243)), context)
    (secret,) = handlers.github.issued_jit_secrets
    out = handlers.capsys.readouterr()
    assert secret not in out.out and secret not in out.err
    name = runner_record(handlers, 4243)["runner_name"]
    from tests.lifecycle.support import new_session

    s3 = new_session().client("s3")
    encoded = (
        s3.get_object(Bucket=handlers.settings.jit_bucket, Key=f"jit/{name}.env")["Body"].read().decode()
    )
    encoded = encoded.strip().split("=", 1)[1]
    assert json.loads(base64.b64decode(encoded))["secret"] == secret
    assert encoded not in out.out and encoded not in out.err


def test_a_bad_signature_is_401_logged_and_counted(handlers: Handlers, context: FakeLambdaContext) -> None:
    response = invoke(webhook(handlers, job_payload("queued", job_id=4244), secret="wrong"), context)
    assert response["statusCode"] == 401
    lines = handlers.output()
    refused = [line for line in logs(lines) if "signature" in line["message"]]
    assert refused and refused[0]["github_delivery"] == DELIVERY and refused[0]["level"] == "WARNING"
    value, dimensions, _ = metric_names(lines)["WebhookRejected"]
    assert value == [1.0] and dimensions["reason"] == "signature"
    assert handlers.github.calls == []
    assert not [c for c in handlers.calls.calls if c[0] == "dynamodb"]


def test_an_ecs_event_moves_the_runner_and_logs_its_name(
    handlers: Handlers, context: FakeLambdaContext
) -> None:
    invoke(webhook(handlers, job_payload("queued", job_id=4245)), context)
    record = runner_record(handlers, 4245)
    handlers.output()
    event = ecs_task_event(
        cluster_arn=handlers.settings.cluster_arn,
        task_arn=record["task_arn"],
        last_status="RUNNING",
        started_by=record["runner_name"],
    )
    assert invoke(event, context) == {
        "outcome": "waiting_for_job",
        "detail": record["task_arn"],
        "runner": record["runner_name"],
    }
    lines = logs(handlers.output())
    moved = [line for line in lines if "WAITING_FOR_JOB" in line["message"]]
    assert moved and moved[0]["runner_name"] == record["runner_name"]
    assert moved[0]["correlation_id"] == event["id"]  # the EventBridge event id
    assert "github_delivery" not in moved[0]


def test_services_are_built_once_per_container(handlers: Handlers, context: FakeLambdaContext) -> None:
    from ecsrunner_lambda import runtime

    invoke(webhook(handlers, job_payload("queued", job_id=4246)), context)
    services = runtime._services
    assert services is not None
    invoke(webhook(handlers, job_payload("queued", job_id=4247)), context)
    assert runtime._services is services
    # The webhook secret was read from Secrets Manager once, then served from the cache.
    assert handlers.calls.of("secretsmanager", "GetSecretValue") == 2  # webhook secret + GitHub token
    assert handlers.calls.of("ssm", "GetParameter") == 1


def test_a_webhook_signed_with_the_secret_from_secrets_manager_is_accepted(
    handlers: Handlers, context: FakeLambdaContext
) -> None:
    body = json.dumps(job_payload("queued", job_id=4248)).encode()
    headers = github_headers("workflow_job", body, None, DELIVERY)
    headers["X-Hub-Signature-256"] = sign(handlers.deployment.webhook_secret.encode(), body)
    assert invoke(api_gateway_event(body, headers), context)["statusCode"] == 200
