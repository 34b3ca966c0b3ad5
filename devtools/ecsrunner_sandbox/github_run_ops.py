"""Stand-in operations for workflow runs, their jobs, and the repositories an App installation sees.

Runs are listed newest first; ``status`` matches a run's status or its conclusion (GitHub: "Returns
workflow runs with the check run status or conclusion that you specify"). ``filter=latest`` lists
the jobs of the run's latest attempt, ``filter=all`` those of every attempt.
``GET /installation/repositories`` needs an installation token (the stand-in's auth enforces it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .github_examples import retarget_repository
from .github_replies import Reply, error, not_found
from .github_requests import ApiRequest, numbered_page
from .github_runs import Run, run_to_api
from .github_state import iso, org_scope, repo_scope

if TYPE_CHECKING:
    from .github_standin import GitHubStandIn

UNSUPPORTED_RUN_FILTERS = ("actor", "created", "check_suite_id")
INSTALLATION_TOKEN_OPERATIONS = frozenset({"apps/list-repos-accessible-to-installation"})


def list_workflow_runs(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    unsupported = [name for name in UNSUPPORTED_RUN_FILTERS if name in request.query]
    if unsupported:
        standin.note_violation(f"{request.operation_id}: the stand-in does not filter by {unsupported}")
        return error(422, f"The stand-in does not filter workflow runs by {', '.join(unsupported)}")
    state = standin.state
    runs = state.runs_in(request.repository, request.query.get("status"))
    wanted: dict[str, Callable[[Run], str]] = {
        "branch": lambda run: run.head_branch,
        "event": lambda run: run.event,
        "head_sha": lambda run: run.head_sha,
    }
    for name, attribute in wanted.items():
        if name in request.query:
            runs = [run for run in runs if attribute(run) == request.query[name]]
    page = numbered_page(request, runs)
    example = _example(standin, "workflow-run-paginated")["workflow_runs"][0]
    body = {"total_count": len(runs), "workflow_runs": [_run(standin, run, example) for run in page.items]}
    return Reply(200, body, {"Link": page.link} if page.link else {})


def list_run_jobs(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    run = standin.state.run_in(request.repository, int(request.path_params["run_id"]))
    if run is None:
        return not_found()
    jobs = standin.state.run_jobs(run, latest=request.query.get("filter", "latest") == "latest")
    page = numbered_page(request, jobs)
    body = {"total_count": len(jobs), "jobs": [job.to_api() for job in page.items]}
    return Reply(200, body, {"Link": page.link} if page.link else {})


def list_installation_repositories(standin: GitHubStandIn, request: ApiRequest) -> Reply:
    app = standin.app
    if app is None:  # unreachable: only an App's installation token gets here
        return error(403, "Resource not accessible by integration")
    state = standin.state
    names = [
        name
        for name in state.repositories()
        if app.installed_on(repo_scope(name)) or app.installed_on(org_scope(name.split("/", 1)[0]))
    ]
    page = numbered_page(request, names)
    example = _example(standin, "repository-paginated-2")["repositories"][0]
    body = {
        "total_count": len(names),
        "repositories": [
            retarget_repository(example, name, state.repository_id(name)) for name in page.items
        ],
        "repository_selection": "all" if app.installed_scopes is None else "selected",
    }
    return Reply(200, body, {"Link": page.link} if page.link else {})


def _run(standin: GitHubStandIn, run: Run, example: dict[str, Any]) -> dict[str, Any]:
    status, conclusion, updated_at = standin.state.run_state(run)
    return run_to_api(
        run,
        status,
        conclusion,
        iso(updated_at),
        iso(run.created_at),
        example=example,
        repository_id=standin.state.repository_id(run.repository),
    )


def _example(standin: GitHubStandIn, name: str) -> Any:
    return standin.contract.document["components"]["examples"][name]["value"]


OPERATIONS: dict[str, Callable[[GitHubStandIn, ApiRequest], Reply]] = {
    "actions/list-workflow-runs-for-repo": list_workflow_runs,
    "actions/list-jobs-for-workflow-run": list_run_jobs,
    "apps/list-repos-accessible-to-installation": list_installation_repositories,
}
