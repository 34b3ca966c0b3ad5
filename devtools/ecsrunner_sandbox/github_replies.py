"""HTTP replies of the GitHub stand-in, and GitHub's error bodies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DOCS = "https://docs.github.com/rest"
SECONDARY_LIMIT_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)
PRIMARY_LIMIT_DOCS = (
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"
)
SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error(
    status: int, message: str, documentation_url: str = DOCS, headers: Mapping[str, str] | None = None
) -> Reply:
    """A GitHub error body: ``message`` and ``documentation_url`` (plus ``status``, as GitHub sends)."""
    body = {"message": message, "documentation_url": documentation_url, "status": str(status)}
    return Reply(status, body, dict(headers or {}))


def not_found() -> Reply:
    return error(404, "Not Found")


def validation_failed(message: str, errors: list[str] | None = None) -> Reply:
    reply = error(422, message)
    if errors:
        reply.body["errors"] = errors
    return reply
