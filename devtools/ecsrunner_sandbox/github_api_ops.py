"""The GitHub operations the stand-in implements, keyed by the operationId of GitHub's description.

Each takes the request (already validated against the description and authenticated) and
answers a :class:`Reply`. Behaviour follows GitHub's documentation: 409 for a duplicate runner
name, 422 when deleting a runner that is running a job, pagination with ``per_page`` (at most 100),
``page`` and a ``Link`` header.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .github_replies import Reply, error, not_found, validation_failed
from .github_state import API, WEB, iso, org_scope, repo_scope

if TYPE_CHECKING:
    from .github_standin import GitHubStandIn

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30
TOKEN_LIFETIME_SECONDS = 3600


@dataclass(frozen=True)
class ApiRequest:
    operation_id: str
    path_params: dict[str, str]
    query: dict[str, str]
    body: Any
    page_url: str  # absolute URL of the path, for Link headers

    @property
    def scope(self) -> str:
        if "org" in self.path_params:
            return org_scope(self.path_params["org"])
        return repo_scope(f"{self.path_params['owner']}/{self.path_params['repo']}")


Operation = Callable[["GitHubStandIn", ApiRequest], Reply]


def generate_jitconfig(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    body = request.body
    labels = tuple(body["labels"])
    secret = secrets.token_urlsafe(24)
    runner = standin.state.register_runner(
        request.scope,
        body["name"],
        labels=labels,
        group_id=body["runner_group_id"],
        work_folder=body.get("work_folder", "_work"),
        secret=secret,
    )
    if runner is None:
        return error(409, f"Already exists - A runner with the name {body['name']} already exists.")
    config = {"runner_id": runner.id, "runner_name": runner.name, "scope": runner.scope, "secret": secret}
    encoded = base64.b64encode(json.dumps(config).encode()).decode()
    standin.issued_jit_secrets.append(secret)
    return Reply(201, {"runner": runner.to_api(), "encoded_jit_config": encoded})


def list_runners(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    per_page = min(max(int(request.query.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)
    page = max(int(request.query.get("page", 1)), 1)
    runners = standin.state.runners_in(request.scope, request.query.get("name"))
    chunk = runners[(page - 1) * per_page : page * per_page]
    reply = Reply(200, {"total_count": len(runners), "runners": [r.to_api() for r in chunk]})
    link = _link_header(request, page, per_page, max(1, math.ceil(len(runners) / per_page)))
    if link:
        reply.headers["Link"] = link
    return reply


def get_runner(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    runner = standin.state.runner_in(request.scope, int(request.path_params["runner_id"]))
    return not_found() if runner is None else Reply(200, runner.to_api())


def delete_runner(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    state = standin.state
    with state.lock:
        runner = state.runner_in(request.scope, int(request.path_params["runner_id"]))
        if runner is None:
            return not_found()
        if runner.busy:
            return validation_failed(f'Bad request - Runner "{runner.name}" is still running a job')
        state.remove_runner(runner.id)
    return Reply(204)


def get_job(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    repository = f"{request.path_params['owner']}/{request.path_params['repo']}"
    job = standin.state.job_in(repository, int(request.path_params["job_id"]))
    return not_found() if job is None else Reply(200, job.to_api())


def get_installation(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    app = standin.app
    account = request.path_params.get("org") or request.path_params.get("owner", "")
    if app is None or not app.installed_on(request.scope):
        return not_found()
    installation = copy.deepcopy(standin.contract.document["components"]["examples"]["installation"]["value"])
    installation.update(
        id=app.installation_id,
        app_id=app.app_id,
        access_tokens_url=f"{API}/app/installations/{app.installation_id}/access_tokens",
        html_url=f"{WEB}/organizations/{account}/settings/installations/{app.installation_id}",
        permissions={
            "administration": "write",
            "organization_self_hosted_runners": "write",
            "actions": "read",
        },
        events=["workflow_job"],
    )
    installation["account"].update(login=account, url=f"{API}/users/{account}", html_url=f"{WEB}/{account}")
    return Reply(200, installation)


def create_installation_token(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    app = standin.app
    if app is None or int(request.path_params["installation_id"]) != app.installation_id:
        return not_found()
    expires_at = standin.clock() + TOKEN_LIFETIME_SECONDS
    token = standin.mint_installation_token(expires_at)
    return Reply(201, {"token": token, "expires_at": iso(expires_at), "repository_selection": "all"})


def rate_limit(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    core = standin.core_rate_limit()
    example = standin.contract.document["components"]["examples"]["rate-limit-overview"]["value"]
    resources = copy.deepcopy(example["resources"])
    resources["core"] = core
    return Reply(200, {"resources": resources, "rate": dict(core)})


def _link_header(request: ApiRequest, page: int, per_page: int, last: int) -> str:
    def url(number: int) -> str:
        query = {k: v for k, v in request.query.items() if k not in ("page", "per_page")}
        return f"{request.page_url}?{urlencode({**query, 'per_page': per_page, 'page': number})}"

    links = []
    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
    return ", ".join(links)


OPERATIONS: dict[str, Operation] = {
    "actions/generate-runner-jitconfig-for-repo": generate_jitconfig,
    "actions/generate-runner-jitconfig-for-org": generate_jitconfig,
    "actions/list-self-hosted-runners-for-repo": list_runners,
    "actions/list-self-hosted-runners-for-org": list_runners,
    "actions/get-self-hosted-runner-for-repo": get_runner,
    "actions/get-self-hosted-runner-for-org": get_runner,
    "actions/delete-self-hosted-runner-from-repo": delete_runner,
    "actions/delete-self-hosted-runner-from-org": delete_runner,
    "actions/get-job-for-workflow-run": get_job,
    "apps/get-repo-installation": get_installation,
    "apps/get-org-installation": get_installation,
    "apps/create-installation-access-token": create_installation_token,
    "rate-limit/get": rate_limit,
}
APP_JWT_OPERATIONS = frozenset(
    {"apps/get-repo-installation", "apps/get-org-installation", "apps/create-installation-access-token"}
)
