"""The webhook edge: size, signature, event type, payload shape and scope, then the use case."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..webhook import MAX_BODY_BYTES, MalformedPayload, WorkflowJobEvent, verify_signature
from .context import Deadline, Deps, log
from .jobs import handle_workflow_job

# GitHub's ids are positive 64-bit integers; DynamoDB numbers hold 38 digits.
MAX_GITHUB_ID = 2**63 - 1
# The runner record keeps the job's labels, names and URLs: far below DynamoDB's 400 KB item limit.
MAX_STORED_TEXT_BYTES = 64 * 1024


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


def unstorable(event: WorkflowJobEvent) -> str | None:
    """Why a well-formed payload cannot be recorded: ids GitHub never sends, text that is not
    valid Unicode (lone surrogates), or more text than a runner record may hold."""
    ids = (("workflow_job.id", event.job_id), ("run_id", event.run_id), ("runner_id", event.runner_id))
    for name, value in ids:
        if value is not None and not 0 < value <= MAX_GITHUB_ID:
            return f"{name} is not a GitHub id"
    texts = (
        event.repository,
        event.owner,
        event.organization,
        event.run_url,
        event.job_name,
        event.workflow_name,
        event.runner_name,
        event.conclusion,
        *(str(label) for label in event.labels),
    )
    size = 0
    for text in texts:
        try:
            size += len(text.encode()) if text is not None else 0
        except UnicodeEncodeError:
            return "text that is not valid Unicode"
    if size > MAX_STORED_TEXT_BYTES:
        return f"more than {MAX_STORED_TEXT_BYTES} bytes of names and labels"
    return None


def _signed(deps: Deps, request: WebhookRequest) -> bool:
    """The signature matches the webhook secret; on a mismatch the secret is read again first (at
    most every 30 s), so a delivery signed with a just-rotated secret is not refused."""
    header = request.header("x-hub-signature-256")
    cached = deps.secrets.webhook_secret()
    if verify_signature(cached, request.body, header):
        return True
    if not header:
        return False
    fresh = deps.secrets.webhook_secret(refresh=True)
    if fresh == cached:
        return False
    deps.metrics.count("CredentialsReloaded", secret="webhook")  # noqa: S106 (a dimension value)
    return verify_signature(fresh, request.body, header)


def handle_webhook(deps: Deps, request: WebhookRequest, deadline: Deadline | None = None) -> WebhookResponse:
    if len(request.body) > MAX_BODY_BYTES:
        return WebhookResponse(413, {"message": f"body larger than {MAX_BODY_BYTES} bytes"})
    if not _signed(deps, request):
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
    problem = unstorable(event)
    if problem is not None:
        return WebhookResponse(400, {"message": f"malformed workflow_job payload: {problem}"})
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
