"""Inputs of the control-plane function as the outside world sends them, and how each is retried.

A webhook is delivered once: GitHub does not redeliver a failed delivery by itself. An EventBridge
event (ECS task state change, CodeBuild build state change) invokes the function asynchronously, and
Lambda retries an invocation that failed, so a crashed event is delivered again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecsrunner_core.usecases.dispatch import handle_control_plane_event

from tests.lifecycle.support import World


@dataclass(frozen=True)
class Delivery:
    kind: str  # "webhook" or "event"
    payload: dict[str, Any]
    action: str = ""  # the workflow_job action, or the ECS / CodeBuild status
    event: str = "workflow_job"  # X-GitHub-Event of a webhook

    @property
    def queued(self) -> bool:
        return self.kind == "webhook" and self.action == "queued"

    @property
    def retried_on_failure(self) -> bool:
        return self.kind == "event"


def webhook(payload: dict[str, Any], action: str, event: str = "workflow_job") -> Delivery:
    return Delivery("webhook", payload, action, event)


def aws_event(payload: dict[str, Any]) -> Delivery:
    detail = payload.get("detail", {})
    return Delivery("event", payload, str(detail.get("lastStatus") or detail.get("build-status") or ""))


def send(world: World, delivery: Delivery) -> int | None:
    """Invoke the control plane with ``delivery``; the HTTP status for a webhook."""
    if delivery.kind == "webhook":
        return int(world.webhook(delivery.event, delivery.payload)["statusCode"])
    handle_control_plane_event(world.deps(), delivery.payload)
    return None
