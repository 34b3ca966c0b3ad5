"""Routing the control-plane function's inputs: API Gateway (payload 2.0) and EventBridge."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from ..aws_events import (
    CODEBUILD_BUILD_STATE_CHANGE,
    ECS_TASK_STATE_CHANGE,
    BuildStateChange,
    TaskStateChange,
)
from .context import Deadline, Deps
from .github_pause import resume_after_pause
from .images import handle_build_event
from .outcomes import Outcome
from .tasks import handle_task_event
from .webhook import WebhookRequest, WebhookResponse, handle_webhook

WEBHOOK_PATH = "/webhook"


def is_http_event(event: Mapping[str, Any]) -> bool:
    context = event.get("requestContext")
    return isinstance(context, Mapping) and isinstance(context.get("http"), Mapping)


def http_response(response: WebhookResponse) -> dict[str, Any]:
    return {
        "statusCode": response.status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(response.body),
    }


def webhook_request(event: Mapping[str, Any]) -> WebhookRequest | WebhookResponse:
    """Turn an HTTP API payload 2.0 event into a request, or the error response for it."""
    http = event["requestContext"]["http"]
    if http.get("method") != "POST" or not str(event.get("rawPath", "")).endswith(WEBHOOK_PATH):
        return WebhookResponse(404, {"message": "only POST /webhook is served"})
    headers = event.get("headers") or {}
    body = event.get("body") or ""
    if not isinstance(headers, Mapping) or not isinstance(body, str):
        return WebhookResponse(400, {"message": "malformed request"})
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode("utf-8")
    except ValueError:  # binascii.Error, UnicodeEncodeError, and non-ASCII text given to b64decode
        return WebhookResponse(400, {"message": "body is not valid base64/UTF-8"})
    return WebhookRequest({str(k).lower(): str(v) for k, v in headers.items()}, raw)


def handle_control_plane_event(
    deps: Deps, event: Mapping[str, Any], deadline: Deadline | None = None
) -> dict[str, Any]:
    if is_http_event(event):
        request = webhook_request(event)
        if isinstance(request, WebhookResponse):
            return http_response(request)
        handled = handle_webhook(deps, request, deadline)
        if handled.body.get("outcome") not in (None, "ignored"):  # a workflow_job of this fleet
            resume_after_pause(deps)
        return http_response(handled)
    detail_type = event.get("detail-type")
    outcome: Outcome
    if detail_type == ECS_TASK_STATE_CHANGE:
        outcome = handle_task_event(deps, TaskStateChange.from_event(event), deadline)
    elif detail_type == CODEBUILD_BUILD_STATE_CHANGE:
        outcome = handle_build_event(deps, BuildStateChange.from_event(event), deadline)
    else:
        outcome = Outcome("ignored", f"unsupported event {detail_type!r}")
    if outcome.action != "ignored":
        resume_after_pause(deps)
    return outcome.as_dict()
