"""Signed webhook deliveries, as GitHub sends them (``webhook send`` and the doctor's ping)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import requests
from ecsrunner_core.webhook import sign

from .failures import CliError

USER_AGENT = "GitHub-Hookshot/ecsrunner-cli"


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    status: int
    body: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def deliver(url: str, secret: bytes, body: bytes, *, event: str, timeout: float = 30.0) -> Delivery:
    """POST ``body`` byte for byte with GitHub's headers and ``X-Hub-Signature-256``."""
    delivery_id = str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": sign(secret, body),
    }
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise CliError(f"POST {url} failed: {type(exc).__name__}: {_one_line(exc)}") from None
    return Delivery(delivery_id, response.status_code, response.text)


def _one_line(value: object) -> str:
    return " ".join(str(value).split())
