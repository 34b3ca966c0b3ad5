"""Stand-in operations for webhook deliveries of a repository hook, an organisation hook and the
App's hook (``/app/hook/...``, App JWT only).

Listings are newest first, filtered by ``status`` (``success``: ``status_code`` 200..399,
``failure``: 400..599, as GitHub's description defines them) and paged by ``cursor``: an opaque
``v1_<delivery id>`` naming the first delivery of the page, found in the ``Link`` header's ``next``.
Redelivery answers 202 and sends the delivery again through the hook's target (see :mod:`.github_hooks`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .github_hooks import Delivery, Hook
from .github_replies import Reply, error, not_found
from .github_requests import ApiRequest

if TYPE_CHECKING:
    from .github_standin import GitHubStandIn

CURSOR = re.compile(r"v1_(\d+)")
STATUS_RANGES = {"success": range(200, 400), "failure": range(400, 600)}
APP_JWT_OPERATIONS = frozenset(
    {"apps/list-webhook-deliveries", "apps/get-webhook-delivery", "apps/redeliver-webhook-delivery"}
)


def list_deliveries(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    hook = _hook(standin, request)
    if hook is None:
        return not_found()
    deliveries = hook.newest_first()
    if "status" in request.query:
        codes = STATUS_RANGES[request.query["status"]]
        deliveries = [d for d in deliveries if d.status_code in codes]
    cursor = request.query.get("cursor")
    if cursor is not None:
        match = CURSOR.fullmatch(cursor)
        if match is None:
            return error(400, "Bad Request")
        deliveries = [d for d in deliveries if d.id <= int(match.group(1))]
    page, rest = deliveries[: request.per_page], deliveries[request.per_page :]
    headers = {"Link": f'<{request.url(cursor=f"v1_{rest[0].id}")}>; rel="next"'} if rest else {}
    return Reply(200, [delivery.to_item() for delivery in page], headers)


def get_delivery(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    delivery = _delivery(standin, request)
    return not_found() if delivery is None else Reply(200, delivery.to_api())


def redeliver(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    hook = _hook(standin, request)
    if hook is None or not standin.hooks.redeliver(hook, int(request.path_params["delivery_id"])):
        return not_found()
    return Reply(202, {})


def _hook(standin: GitHubStandIn, request: ApiRequest) -> Hook | None:
    params = request.path_params
    hook_id = int(params["hook_id"]) if "hook_id" in params else None
    if "org" in params:
        return standin.hooks.find("organization", params["org"], hook_id)
    if "owner" in params:
        return standin.hooks.find("repository", request.repository, hook_id)
    return standin.hooks.app


def _delivery(standin: GitHubStandIn, request: ApiRequest) -> Delivery | None:
    hook = _hook(standin, request)
    return None if hook is None else hook.delivery(int(request.path_params["delivery_id"]))


OPERATIONS: dict[str, Callable[[GitHubStandIn, ApiRequest], Reply]] = {
    f"{prefix}/{name}": operation
    for prefix in ("repos", "orgs", "apps")
    for name, operation in (
        ("list-webhook-deliveries", list_deliveries),
        ("get-webhook-delivery", get_delivery),
        ("redeliver-webhook-delivery", redeliver),
    )
}
