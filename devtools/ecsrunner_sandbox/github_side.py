"""GitHub's half of the demo: jobs queued in the stand-in, and webhook deliveries to the deployment.

Deliveries are signed as GitHub signs them (``X-Hub-Signature-256`` with the webhook secret, which
the demo, playing GitHub, reads from Secrets Manager). A redelivery repeats a delivery byte for
byte, ``X-GitHub-Delivery`` included, as GitHub's "Redeliver" button does; a forged delivery is
signed with a wrong secret.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import requests
from ecsrunner_core.webhook import sign

from .github_runner_sim import RunnerSimulator, webhook_delivery
from .github_standin import GitHubStandIn
from .github_state import Job

DELIVERY_TIMEOUT_SECONDS = 30.0  # the gateway's integration timeout is 30 s


@dataclass(frozen=True)
class Delivery:
    event: str
    action: str
    job_id: int
    delivery_id: str
    body: bytes = field(repr=False)
    headers: dict[str, str] = field(repr=False)


@dataclass(frozen=True)
class DeliveryResult:
    delivery: Delivery
    status: int
    response: dict[str, Any]
    kind: str  # "delivery", "redelivery", "forged", "cli"

    @property
    def outcome(self) -> str:
        """The control plane's ``outcome`` (accepted, duplicate, refused, ...) or its message."""
        return str(self.response.get("outcome") or self.response.get("message") or "")


class GitHubSide:
    def __init__(self, standin: GitHubStandIn, repository: str, webhook_url: str, secret: str) -> None:
        self.standin = standin
        self.sim = RunnerSimulator(standin.state)
        self.repository = repository
        self.webhook_url = webhook_url
        self._secret = secret.encode()
        self.results: list[DeliveryResult] = []
        self._lock = threading.Lock()
        self._http = requests.Session()
        self._calls_seen = 0

    def queue(self, labels: tuple[str, ...], name: str, workflow: str) -> Job:
        return self.sim.queue_job(self.repository, labels, name=name, workflow=workflow)

    def delivery(self, job: Job, action: str | None = None) -> Delivery:
        payload = self.sim.payload(job, action)
        body, headers = webhook_delivery("workflow_job", payload, self._secret)
        return Delivery(
            "workflow_job", payload["action"], job.id, headers["X-GitHub-Delivery"], body, headers
        )

    def forged(self, job_id: int, labels: tuple[str, ...]) -> Delivery:
        """A queued delivery for a job GitHub never queued, signed with a guessed secret."""
        job = Job(job_id, job_id, self.repository, labels, "forged", "forged", self.standin.clock())
        payload = self.sim.payload(job, "queued")
        body = json.dumps(payload).encode()
        _, headers = webhook_delivery("workflow_job", payload, self._secret)
        headers["X-Hub-Signature-256"] = sign(secrets.token_bytes(32), body)
        return Delivery("workflow_job", "queued", job_id, headers["X-GitHub-Delivery"], body, headers)

    def post(self, delivery: Delivery, kind: str = "delivery") -> DeliveryResult:
        response = self._http.post(
            self.webhook_url, data=delivery.body, headers=delivery.headers, timeout=DELIVERY_TIMEOUT_SECONDS
        )
        try:
            answer = response.json()
        except ValueError:
            answer = {"message": response.text[:200]}
        result = DeliveryResult(
            delivery, response.status_code, answer if isinstance(answer, dict) else {}, kind
        )
        self.record(result)
        return result

    def record(self, result: DeliveryResult) -> None:
        with self._lock:
            self.results.append(result)

    def deliver(self, job: Job, action: str | None = None) -> DeliveryResult:
        return self.post(self.delivery(job, action))

    def new_api_calls(self) -> list[tuple[str, str, int]]:
        """REST calls the deployment made to the stand-in since the last look (method, path, status)."""
        calls = list(self.standin.calls)
        fresh, self._calls_seen = calls[self._calls_seen :], len(calls)
        return fresh

    def close(self) -> None:
        self._http.close()
