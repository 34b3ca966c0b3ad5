"""The GitHub operations the stand-in implements, keyed by the operationId of GitHub's description.

Each takes the request (already validated against the description and authenticated) and
answers a :class:`Reply`. Behaviour follows GitHub's documentation: 409 for a duplicate runner
name, 422 when deleting a runner that is running a job, pagination with ``per_page`` (at most 100),
``page`` and a ``Link`` header. Runs and installations are in :mod:`.github_run_ops`, webhook
deliveries in :mod:`.github_hook_ops`.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import github_hook_ops, github_run_ops
from .github_examples import API, WEB
from .github_replies import Reply, error, not_found, validation_failed
from .github_requests import ApiRequest, numbered_page
from .github_state import iso

if TYPE_CHECKING:
    from .github_standin import GitHubStandIn

TOKEN_LIFETIME_SECONDS = 3600

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
    runners = standin.state.runners_in(request.scope, request.query.get("name"))
    page = numbered_page(request, runners)
    body = {"total_count": len(runners), "runners": [r.to_api() for r in page.items]}
    return Reply(200, body, {"Link": page.link} if page.link else {})


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
    job = standin.state.job_in(request.repository, int(request.path_params["job_id"]))
    return not_found() if job is None else Reply(200, job.to_api())


def get_installation(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    app = standin.app
    account = request.path_params.get("org") or request.path_params.get("owner", "")
    if "org" in request.path_params:
        installed = app is not None and app.installed_on(request.scope)
    else:
        installed = standin.installation_for(request.repository) is not None
    if app is None or not installed:
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
    **github_run_ops.OPERATIONS,
    **github_hook_ops.OPERATIONS,
}
APP_JWT_OPERATIONS = frozenset(
    {
        "apps/get-repo-installation",
        "apps/get-org-installation",
        "apps/create-installation-access-token",
        *github_hook_ops.APP_JWT_OPERATIONS,
    }
)
INSTALLATION_TOKEN_OPERATIONS = github_run_ops.INSTALLATION_TOKEN_OPERATIONS
