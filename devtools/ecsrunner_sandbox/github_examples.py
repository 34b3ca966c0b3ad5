"""GitHub's own examples, re-aimed at the stand-in's repositories.

The stand-in answers with objects built from the examples in GitHub's OpenAPI description (and the
webhook payloads from GitHub's examples), changing only ids, names and the URLs that contain them.
"""

from __future__ import annotations

import copy
import re
from typing import Any

API = "https://api.github.com"
WEB = "https://github.com"


def retarget_repository(
    example: dict[str, Any], full_name: str, repository_id: int | None = None
) -> dict[str, Any]:
    """A copy of a repository object (``repository``, ``minimal-repository`` or a payload's
    ``repository``) renamed to ``full_name``: names, owner login and every URL that holds them."""
    swapped: dict[str, Any] = retarget_urls(example, example["full_name"], full_name)
    owner, name = full_name.split("/", 1)
    swapped.update(name=name, full_name=full_name)
    swapped["owner"]["login"] = owner
    if repository_id is not None:
        swapped["id"] = repository_id
    return swapped


def retarget_urls(value: Any, old_full_name: str, full_name: str) -> Any:
    """A deep copy of ``value`` with ``old_full_name``, and its owner as a whole ``/owner`` URL
    segment, replaced by ``full_name`` and its owner in every string."""
    old_owner, new_owner = old_full_name.split("/", 1)[0], full_name.split("/", 1)[0]
    owner_segment = re.compile(rf"/{re.escape(old_owner)}(?=[/{{?]|$)")

    def swap(item: Any) -> Any:
        if isinstance(item, str):
            return owner_segment.sub(f"/{new_owner}", item.replace(old_full_name, full_name))
        if isinstance(item, dict):
            return {key: swap(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [swap(inner) for inner in item]
        return item

    return swap(copy.deepcopy(value))
