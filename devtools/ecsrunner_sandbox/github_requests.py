"""A request to the GitHub stand-in as its operations see it, and GitHub's pagination.

Numbered pages follow "Using pagination in the REST API": ``per_page`` (default 30, at most 100),
``page`` (from 1) and a ``Link`` header with ``next``, ``last``, ``first`` and ``prev``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from .github_state import org_scope, repo_scope

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30
T = TypeVar("T")


@dataclass(frozen=True)
class ApiRequest:
    operation_id: str
    path_params: dict[str, str]
    query: dict[str, str]
    body: Any
    page_url: str  # absolute URL of the path, for Link headers

    @property
    def repository(self) -> str:
        return f"{self.path_params['owner']}/{self.path_params['repo']}"

    @property
    def scope(self) -> str:
        if "org" in self.path_params:
            return org_scope(self.path_params["org"])
        return repo_scope(self.repository)

    @property
    def per_page(self) -> int:
        return min(max(int(self.query.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)

    def url(self, **query: str | int) -> str:
        """The request's URL with these query parameters replaced."""
        kept = {key: value for key, value in self.query.items() if key not in query}
        return f"{self.page_url}?{urlencode({**kept, **query})}"


@dataclass(frozen=True)
class NumberedPage:
    items: list[Any]
    link: str


def numbered_page(request: ApiRequest, items: Sequence[T]) -> NumberedPage:
    """The ``page`` of ``items`` the request asks for, and its ``Link`` header ("" if one page)."""
    per_page = request.per_page
    page = max(int(request.query.get("page", 1)), 1)
    last = max(1, math.ceil(len(items) / per_page))

    def url(number: int) -> str:
        return request.url(per_page=per_page, page=number)

    links = []
    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
    return NumberedPage(list(items[(page - 1) * per_page : page * per_page]), ", ".join(links))
