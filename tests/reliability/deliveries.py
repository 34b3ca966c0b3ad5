"""Inputs of the control-plane function as the outside world sends them, and how each is retried.

A webhook goes through the repository's hook on the GitHub stand-in, which records every delivery
as GitHub's "Recent Deliveries" do: a delivery the hook drops, or whose invocation dies, is recorded
as failed, and only a redelivery (the janitor asks for it) sends it again: GitHub does not redeliver
by itself. An EventBridge event (ECS task state change, CodeBuild build state change) invokes the
function asynchronously, and Lambda retries an invocation that failed, so a crashed event is
delivered again; an event may also never arrive at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecsrunner_core.usecases.dispatch import handle_control_plane_event
from ecsrunner_sandbox.github_hooks import TIMED_OUT, DeliveryFailed

from tests.lifecycle.support import SimulatedCrash, World


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


class HookTarget:
    """The repository hook's target: the control plane in-process. An invocation that dies
    (:class:`SimulatedCrash`) gives GitHub no answer: a failed ("timed out") delivery."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.crashed = False

    def __call__(self, event: str, body: bytes, headers: Mapping[str, str]) -> int:
        try:
            return self.world.deliver_to_control_plane(event, body, headers)
        except SimulatedCrash:
            self.crashed = True
            raise DeliveryFailed(TIMED_OUT) from None


def connect(world: World) -> HookTarget:
    """Connect the repository's webhook on the stand-in to the control plane (once per world)."""
    target = HookTarget(world)
    hook = world.github.hooks.repository_hook(
        world.settings.github_repo or "", target, secret=world.deployment.webhook_secret.encode()
    )
    world.configure(webhook_hook_id=hook.id)
    return target


def send(world: World, delivery: Delivery, target: HookTarget | None = None) -> int | None:
    """Invoke the control plane with ``delivery``; the HTTP status for a webhook (None when the
    delivery failed: dropped by the hook, or the invocation died). With a ``target`` the webhook
    goes through the hook; a dying invocation then raises :class:`SimulatedCrash` here too."""
    if delivery.kind == "webhook":
        if target is None:
            return int(world.webhook(delivery.event, delivery.payload)["statusCode"])
        target.crashed = False
        (recorded,) = world.github.hooks.send(delivery.event, delivery.payload)
        if target.crashed:
            raise SimulatedCrash
        return recorded.status_code if not recorded.dropped else None
    handle_control_plane_event(world.deps(), delivery.payload)
    return None


def deliver_redeliveries(world: World, target: HookTarget) -> int:
    """The redeliveries the janitor asked for (GitHub sends them shortly after); returns how many
    got an answer."""
    answered = 0
    for delivery in world.github.hooks.deliver_pending():
        answered += 0 if delivery.dropped else 1
    target.crashed = False
    return answered
