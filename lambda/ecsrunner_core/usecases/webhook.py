"""The webhook edge: size, signature, event type, payload shape and scope, then the use case."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..webhook import MAX_BODY_BYTES, MalformedPayload, WorkflowJobEvent, verify_signature
from .context import Deadline, Deps, log
from .jobs import handle_workflow_job


@dataclass(frozen=True)
class WebhookRequest:
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


def in_scope(deps: Deps, event: WorkflowJobEvent) -> bool:
    settings = deps.settings
    if settings.github_repo:
        return event.repository.lower() == settings.github_repo.lower()
    if settings.github_org:
        owner = event.organization or event.owner
        return owner.lower() == settings.github_org.lower()
    return False


def handle_webhook(deps: Deps, request: WebhookRequest, deadline: Deadline | None = None) -> WebhookResponse:
    if len(request.body) > MAX_BODY_BYTES:
        return WebhookResponse(413, {"message": f"body larger than {MAX_BODY_BYTES} bytes"})
    if not verify_signature(
        deps.secrets.webhook_secret(), request.body, request.header("x-hub-signature-256")
    ):
        log.warning("webhook refused: missing or invalid signature")
        deps.metrics.count("WebhookRejected", reason="signature")
        return WebhookResponse(401, {"message": "missing or invalid X-Hub-Signature-256"})
    kind = request.header("x-github-event") or ""
    if kind == "ping":
        return WebhookResponse(200, {"message": "pong"})
    if kind != "workflow_job":
        return WebhookResponse(202, {"message": f"event {kind!r} ignored"})
    try:
        event = WorkflowJobEvent.from_payload(json.loads(request.body))
    except (
        ValueError,
        RecursionError,
        MalformedPayload,
    ) as exc:  # JSONDecodeError, UnicodeDecodeError: ValueError
        return WebhookResponse(400, {"message": f"malformed workflow_job payload: {exc}"})
    if not in_scope(deps, event):
        log.info(
            "webhook ignored: %s is outside %s",
            event.repository,
            deps.settings.scope,
            extra={"job_id": event.job_id},
        )
        return WebhookResponse(202, {"message": f"{event.repository} is outside this deployment's scope"})
    outcome = handle_workflow_job(deps, event, deadline)
    return WebhookResponse(200 if outcome.action != "ignored" else 202, outcome.as_dict())
