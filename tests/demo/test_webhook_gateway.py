"""The HTTP API stand-in: routes read back from API Gateway, payload 2.0 events, response mapping."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import requests
from ecsrunner_core.usecases.dispatch import is_http_event, webhook_request
from ecsrunner_core.usecases.webhook import WebhookRequest
from ecsrunner_sandbox.lambda_host import Invocation
from ecsrunner_sandbox.webhook_gateway import (
    HttpApi,
    Route,
    WebhookGateway,
    find_http_api,
    gateway_response,
    http_api_event,
)

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:control-plane"
API = HttpApi("abc123", "https://abc123.execute-api.us-east-1.amazonaws.com", "123456789012", "us-east-1", (
    Route("POST /webhook", FUNCTION_ARN, "2.0"),
))  # fmt: skip


def test_routes_and_integrations_are_read_back_from_the_deployed_api(aws: boto3.Session) -> None:
    client = aws.client("apigatewayv2")
    api_id = client.create_api(Name="webhook", ProtocolType="HTTP")["ApiId"]
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"
    integration = client.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri, PayloadFormatVersion="2.0"
    )["IntegrationId"]
    client.create_route(ApiId=api_id, RouteKey="POST /webhook", Target=f"integrations/{integration}")

    api = find_http_api(client, route_key="POST /webhook", account="123456789012", region="us-east-1")

    assert api.api_id == api_id
    assert api.routes == (Route("POST /webhook", FUNCTION_ARN, "2.0"),)
    assert api.match("POST", "/webhook") == api.routes[0]
    assert api.match("GET", "/webhook") is None and api.match("POST", "/other") is None


def test_the_event_is_payload_2_and_the_control_plane_reads_it() -> None:
    body = b'{"action": "queued"}'
    headers = [
        ("Content-Type", "application/json"),
        ("X-Hub-Signature-256", "sha256=abc"),
        ("X-Custom", "one"),
        ("x-custom", "two"),
    ]
    event = http_api_event(
        API,
        API.routes[0],
        method="POST",
        target="/webhook?x=1",
        headers=headers,
        body=body,
        source_ip="127.0.0.1",
    )
    assert event["version"] == "2.0" and event["routeKey"] == "POST /webhook"
    assert event["rawPath"] == "/webhook" and event["rawQueryString"] == "x=1"
    assert event["headers"]["x-hub-signature-256"] == "sha256=abc"
    assert event["headers"]["x-custom"] == "one,two"
    assert event["body"] == body.decode() and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"]["method"] == "POST" and context["http"]["sourceIp"] == "127.0.0.1"
    assert context["apiId"] == "abc123" and context["accountId"] == "123456789012"
    assert "authorizer" not in context and "cookies" not in event and "stageVariables" not in event
    assert is_http_event(event)
    request = webhook_request(event)
    assert isinstance(request, WebhookRequest)
    assert request.body == body and request.header("X-Hub-Signature-256") == "sha256=abc"


def test_a_binary_body_is_base64_encoded() -> None:
    body = bytes(range(256))
    event = http_api_event(
        API,
        API.routes[0],
        method="POST",
        target="/webhook",
        headers=[("Content-Type", "application/octet-stream")],
        body=body,
        source_ip="127.0.0.1",
    )
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == body


def test_function_results_map_to_http_responses_as_api_gateway_does() -> None:
    proxy = Invocation("f", "r", {"statusCode": 401, "headers": {"Content-Type": "x"}, "body": "no"})
    assert gateway_response(proxy).status == 401 and gateway_response(proxy).headers == {"content-type": "x"}
    encoded = Invocation(
        "f", "r", {"statusCode": 200, "body": base64.b64encode(b"hi").decode(), "isBase64Encoded": True}
    )
    assert gateway_response(encoded).body == b"hi"
    bare = Invocation("f", "r", {"ok": True})
    assert gateway_response(bare).status == 200 and json.loads(gateway_response(bare).body) == {"ok": True}
    failed = Invocation("f", "r", error={"errorType": "KeyError", "errorMessage": "x"})
    assert gateway_response(failed).status == 500
    assert json.loads(gateway_response(failed).body) == {"message": "Internal Server Error"}


def test_the_server_invokes_the_route_function_and_answers_404_for_unrouted_requests() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def invoke(function: str, event: dict[str, Any]) -> Invocation:
        calls.append((function, event))
        return Invocation(function, "r", {"statusCode": 202, "body": json.dumps({"outcome": "ignored"})})

    gateway = WebhookGateway(API, invoke)
    gateway.start()
    try:
        routed = requests.post(f"{gateway.origin}/webhook", data=b"{}", timeout=10)
        unrouted = requests.get(f"{gateway.origin}/webhook", timeout=10)
    finally:
        gateway.stop()
    assert routed.status_code == 202 and routed.json() == {"outcome": "ignored"}
    assert unrouted.status_code == 404 and unrouted.json() == {"message": "Not Found"}
    assert [function for function, _ in calls] == [FUNCTION_ARN]
    assert [e.status for e in gateway.exchanges] == [202, 404]
