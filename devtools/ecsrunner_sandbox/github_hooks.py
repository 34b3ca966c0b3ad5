"""Webhooks of the GitHub stand-in: repository hooks, organisation hooks and the App's hook send
events to a target and remember every delivery, as GitHub's "Recent Deliveries" do.

A target is ``deliver(event, body, headers) -> HTTP status`` (or a :class:`TargetReply`): the
control plane called in-process, or :func:`post_to` a URL. A target that got no HTTP answer raises
:class:`DeliveryFailed`. A hook can be told to *drop* deliveries: GitHub records them as failed
(``failed to connect``, 502, as in the example of GitHub's description, unless told otherwise) but
the target never sees them. Redelivery (``POST .../deliveries/{id}/attempts``) sends the same body
with the same ``X-GitHub-Delivery`` GUID again, signed with the hook's current secret, and records a
new delivery with ``redelivery: true``; with ``defer_redeliveries`` it waits for
:meth:`Hooks.deliver_pending`, as GitHub sends it some time after answering 202.

GitHub's ``status=failure`` filter selects ``status_code`` 400..599 (its description says so), so a
delivery recorded with ``status_code`` 0 is not a "failure" there, though it did not succeed.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from ecsrunner_core.webhook import sign

from .github_state import iso

DEFAULT_TARGET_URL = "https://ecsrunner.invalid/webhook"
GITHUB_TIMEOUT_SECONDS = 10.0  # github.com gives up on a delivery after 10 s
HOOK_KINDS = ("repository", "organization", "app")


@dataclass(frozen=True)
class Outcome:
    """What GitHub records for a delivery that got no HTTP answer."""

    status_code: int
    status: str


FAILED_TO_CONNECT = Outcome(502, "failed to connect")
TIMED_OUT = Outcome(504, "timed out")


class DeliveryFailed(Exception):
    """Raised by a target that got no HTTP answer (connection refused, timeout)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome


@dataclass(frozen=True)
class TargetReply:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None


DeliveryTarget = Callable[[str, bytes, Mapping[str, str]], int | TargetReply]


def post_to(url: str, *, timeout: float = GITHUB_TIMEOUT_SECONDS) -> DeliveryTarget:
    """A target that POSTs each delivery to ``url``, as GitHub does."""
    session = requests.Session()

    def deliver(event: str, body: bytes, headers: Mapping[str, str]) -> TargetReply:
        try:
            response = session.post(url, data=body, headers=dict(headers), timeout=timeout)
        except requests.Timeout:
            raise DeliveryFailed(TIMED_OUT) from None
        except requests.ConnectionError:
            raise DeliveryFailed(FAILED_TO_CONNECT) from None
        return TargetReply(response.status_code, dict(response.headers), response.text)

    return deliver


@dataclass
class Delivery:
    """One delivery attempt, with what GitHub shows about it."""

    id: int
    hook_id: int
    guid: str
    event: str
    action: str | None
    delivered_at: float
    redelivery: bool
    status_code: int
    status: str
    duration: float
    installation_id: int | None
    repository_id: int | None
    url: str
    body: bytes = field(repr=False)
    request_headers: dict[str, str] = field(repr=False)
    response_headers: dict[str, str] | None = field(default=None, repr=False)
    response_body: str | None = field(default=None, repr=False)
    dropped: bool = False

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    def to_item(self) -> dict[str, Any]:
        """GitHub's ``hook-delivery-item`` (the listing)."""
        return {
            "id": self.id,
            "guid": self.guid,
            "delivered_at": iso(self.delivered_at),
            "redelivery": self.redelivery,
            "duration": self.duration,
            "status": self.status,
            "status_code": self.status_code,
            "event": self.event,
            "action": self.action,
            "installation_id": self.installation_id,
            "repository_id": self.repository_id,
            "throttled_at": None,
        }

    def to_api(self) -> dict[str, Any]:
        """GitHub's ``hook-delivery`` (one delivery, with its request and response)."""
        return {
            **self.to_item(),
            "url": self.url,
            "request": {"headers": dict(self.request_headers), "payload": self.payload},
            "response": {"headers": self.response_headers, "payload": self.response_body},
        }


@dataclass
class Hook:
    """A webhook: ``kind`` is ``repository`` (``owner`` is ``o/r``), ``organization`` (``owner`` is
    the organisation) or ``app`` (the App's own hook; ``owner`` is None)."""

    id: int
    kind: str
    owner: str | None
    secret: bytes = field(repr=False)
    target: DeliveryTarget = field(repr=False)
    url: str = DEFAULT_TARGET_URL
    app_id: int | None = None
    deliveries: list[Delivery] = field(default_factory=list, repr=False)
    drops: deque[Outcome] = field(default_factory=deque, repr=False)

    def drop_next(self, count: int = 1, outcome: Outcome = FAILED_TO_CONNECT) -> None:
        """The next ``count`` deliveries of this hook fail with ``outcome`` before reaching the target."""
        self.drops.extend([outcome] * count)

    def delivery(self, delivery_id: int) -> Delivery | None:
        return next((d for d in self.deliveries if d.id == delivery_id), None)

    def newest_first(self) -> list[Delivery]:
        return sorted(self.deliveries, key=lambda d: d.id, reverse=True)


class Hooks:
    """The stand-in's webhooks. ``installation_for(repository)`` is the App installation id on that
    repository (``None``: the App is not installed there), for the App hook."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        installation_for: Callable[[str], int | None],
        seed: int = 0,
    ) -> None:
        self.clock = clock
        self.defer_redeliveries = False
        self.pending: list[tuple[Hook, Delivery]] = []
        self._installation_for = installation_for
        self._rng = random.Random(seed)  # noqa: S311  (repeatable GUIDs and drops, not cryptography)
        self._lock = threading.RLock()
        self._hooks: list[Hook] = []
        self._next_hook_id = 400_000_001
        self._next_delivery_id = 90_000_000_001
        self._drop_rate = 0.0
        self._drop_outcome = FAILED_TO_CONNECT

    # --- registration -------------------------------------------------------------------------

    def repository_hook(
        self, repository: str, target: DeliveryTarget, *, secret: bytes, **options: Any
    ) -> Hook:
        return self._add("repository", repository, target, secret, **options)

    def organization_hook(self, org: str, target: DeliveryTarget, *, secret: bytes, **options: Any) -> Hook:
        return self._add("organization", org, target, secret, **options)

    def app_hook(self, target: DeliveryTarget, *, secret: bytes, app_id: int, **options: Any) -> Hook:
        if self.app is not None:
            raise ValueError("the App already has its hook")
        return self._add("app", None, target, secret, app_id=app_id, **options)

    def _add(
        self, kind: str, owner: str | None, target: DeliveryTarget, secret: bytes, **options: Any
    ) -> Hook:
        with self._lock:
            hook = Hook(self._next_hook_id, kind, owner, secret, target, **options)
            self._next_hook_id += 1
            self._hooks.append(hook)
            return hook

    @property
    def hooks(self) -> list[Hook]:
        with self._lock:
            return list(self._hooks)

    @property
    def app(self) -> Hook | None:
        return next((hook for hook in self.hooks if hook.kind == "app"), None)

    def find(self, kind: str, owner: str | None, hook_id: int | None = None) -> Hook | None:
        """The hook of that kind, owner (case-insensitive) and id (any id for the App hook)."""
        for hook in self.hooks:
            same_owner = (hook.owner or "").lower() == (owner or "").lower()
            if hook.kind == kind and same_owner and (hook_id is None or hook.id == hook_id):
                return hook
        return None

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery of every hook, oldest first."""
        return sorted((d for hook in self.hooks for d in hook.deliveries), key=lambda d: d.id)

    # --- faults -------------------------------------------------------------------------------

    def set_drop_rate(self, rate: float, outcome: Outcome = FAILED_TO_CONNECT) -> None:
        """Drop each delivery (redeliveries too) with this probability, drawn from the seeded RNG."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("drop rate must be within 0..1")
        with self._lock:
            self._drop_rate, self._drop_outcome = rate, outcome

    # --- sending ------------------------------------------------------------------------------

    def send(self, event: str, payload: Mapping[str, Any]) -> list[Delivery]:
        """Deliver an event to every hook that subscribes to its repository (repository hooks, then
        organisation hooks, then the App's), all under one GUID, as GitHub does."""
        repository = str(payload["repository"]["full_name"])
        owner = repository.split("/", 1)[0]
        installation = self._installation_for(repository)
        chosen = [
            hook
            for hook in self.hooks
            if (hook.kind == "repository" and (hook.owner or "").lower() == repository.lower())
            or (hook.kind == "organization" and (hook.owner or "").lower() == owner.lower())
            or (hook.kind == "app" and installation is not None)
        ]
        chosen.sort(key=lambda hook: HOOK_KINDS.index(hook.kind))
        with self._lock:
            guid = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        body = json.dumps(payload).encode()
        return [
            self._attempt(hook, event, body, guid, redelivery=False, installation=installation)
            for hook in chosen
        ]

    def redeliver(self, hook: Hook, delivery_id: int) -> bool:
        """``POST .../deliveries/{delivery_id}/attempts``: ``False`` when the hook has no such delivery."""
        original = hook.delivery(delivery_id)
        if original is None:
            return False
        if self.defer_redeliveries:
            with self._lock:
                self.pending.append((hook, original))
        else:
            self._again(hook, original)
        return True

    def deliver_pending(self) -> list[Delivery]:
        """Make the redeliveries asked for while ``defer_redeliveries`` was set."""
        with self._lock:
            pending, self.pending = self.pending, []
        return [self._again(hook, original) for hook, original in pending]

    def _again(self, hook: Hook, original: Delivery) -> Delivery:
        return self._attempt(
            hook,
            original.event,
            original.body,
            original.guid,
            redelivery=True,
            installation=original.installation_id,
        )

    def _attempt(
        self, hook: Hook, event: str, body: bytes, guid: str, *, redelivery: bool, installation: int | None
    ) -> Delivery:
        payload = json.loads(body)
        headers = _headers(hook, event, guid, body, payload)
        with self._lock:
            delivery_id = self._next_delivery_id
            self._next_delivery_id += 1
            drop = hook.drops.popleft() if hook.drops else None
            if drop is None and self._drop_rate and self._rng.random() < self._drop_rate:
                drop = self._drop_outcome
        started = self.clock()
        reply: TargetReply | None = None
        if drop is None:
            try:
                answer = hook.target(event, body, headers)
                reply = answer if isinstance(answer, TargetReply) else TargetReply(int(answer))
            except DeliveryFailed as failure:
                drop = failure.outcome
        if reply is not None:
            status_code, status = reply.status, _status_text(reply)
        else:
            assert drop is not None
            status_code, status = drop.status_code, drop.status
        repository = payload.get("repository") or {}
        delivery = Delivery(
            id=delivery_id,
            hook_id=hook.id,
            guid=guid,
            event=event,
            action=payload.get("action"),
            delivered_at=started,
            redelivery=redelivery,
            status_code=status_code,
            status=status,
            duration=round(max(self.clock() - started, 0.0), 2),
            installation_id=installation if hook.kind == "app" else None,
            repository_id=repository.get("id"),
            url=hook.url,
            body=body,
            request_headers=headers,
            response_headers=dict(reply.headers) if reply is not None else None,
            response_body=reply.body if reply is not None else None,
            dropped=reply is None,
        )
        with self._lock:
            hook.deliveries.append(delivery)
        return delivery


def _status_text(reply: TargetReply) -> str:
    return "OK" if 200 <= reply.status < 300 else f"Invalid HTTP Response: {reply.status}"


def _headers(hook: Hook, event: str, guid: str, body: bytes, payload: dict[str, Any]) -> dict[str, str]:
    repository = payload.get("repository") or {}
    if hook.kind == "app":
        target_type, target_id = "integration", hook.app_id
    elif hook.kind == "organization":
        target_type, target_id = (
            "organization",
            (payload.get("organization") or repository.get("owner") or {}).get("id"),
        )
    else:
        target_type, target_id = "repository", repository.get("id")
    headers = {
        "Accept": "*/*",
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/standin",
        "X-GitHub-Delivery": guid,
        "X-GitHub-Event": event,
        "X-GitHub-Hook-ID": str(hook.id),
        "X-GitHub-Hook-Installation-Target-Type": target_type,
        "X-Hub-Signature-256": sign(hook.secret, body),
    }
    if target_id is not None:
        headers["X-GitHub-Hook-Installation-Target-ID"] = str(target_id)
    return headers
