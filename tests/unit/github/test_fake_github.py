"""``tests.support.fakes.FakeGitHub``, the in-memory GitHubPort of the use-case unit tests, behaves
as GitHubClient does against the stand-in: None on unknown ids, one page per call with the next
page's token, ``failed_only`` as GitHub's ``status=failure``, redeliveries under the same GUID, and
App-only reads refused to a PAT."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ecsrunner_core.ports import (
    GitHubAuthError,
    GitHubJob,
    GitHubNotFound,
    GitHubPort,
    GitHubUnavailable,
    HookDelivery,
    HookRef,
    WorkflowRun,
)

from tests.support.fakes import FakeGitHub

REPO = "octo-org/octo-repo"
WHEN = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _delivery(delivery_id: int, status_code: int) -> HookDelivery:
    return HookDelivery(
        delivery_id, f"guid-{delivery_id}", WHEN, False, status_code, "workflow_job", "queued"
    )


def test_reads_by_id_answer_none_for_what_github_does_not_know() -> None:
    github = FakeGitHub()
    port: GitHubPort = github
    job = GitHubJob(7, 70, REPO, "queued", ("self-hosted",))
    github.jobs[job.id] = job
    jit = port.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)

    assert port.get_job(REPO, 7) == job
    assert port.get_job("octo-org/other", 7) is None
    assert port.get_job(REPO, 8) is None
    assert port.get_runner(jit.runner_id) is not None
    assert port.get_runner(jit.runner_id + 1) is None


def test_listings_come_one_page_per_call() -> None:
    github = FakeGitHub(page_size=2)
    for run_id in range(1, 6):
        github.runs[run_id] = WorkflowRun(run_id, REPO, "queued" if run_id != 3 else "in_progress", WHEN)
        github.jobs[run_id * 10] = GitHubJob(run_id * 10, run_id, REPO, "queued")
    github.repositories = [REPO, "octo-org/b", "octo-org/c"]

    first = github.list_workflow_runs(REPO, "queued")
    second = github.list_workflow_runs(REPO, "queued", first.next)

    assert ([r.id for r in first.items], first.next) == ([5, 4], "2")
    assert ([r.id for r in second.items], second.next) == ([2, 1], None)
    assert [j.id for j in github.list_run_jobs(REPO, 3).items] == [30]
    assert github.list_installation_repositories("2").items == ("octo-org/c",)
    assert [name for name, _ in github.calls] == ["list_workflow_runs"] * 2 + [
        "list_run_jobs",
        "list_installation_repositories",
    ]


def test_failed_deliveries_and_redelivery() -> None:
    hook = HookRef(hook_id=12)
    github = FakeGitHub(deliveries={hook: [_delivery(1, 200), _delivery(2, 502), _delivery(3, 0)]})

    assert [d.id for d in github.list_hook_deliveries(hook).items] == [2]
    assert [d.id for d in github.list_hook_deliveries(hook, failed_only=False).items] == [3, 2, 1]
    github.redeliver(hook, 2)

    newest = github.list_hook_deliveries(hook, failed_only=False).items[0]
    assert (newest.id, newest.guid, newest.redelivery, newest.status_code) == (4, "guid-2", True, 200)
    assert github.redelivered == [(hook, 2)]
    with pytest.raises(GitHubNotFound):
        github.redeliver(hook, 99)
    with pytest.raises(GitHubNotFound):
        github.list_hook_deliveries(HookRef(hook_id=13))


def test_app_only_reads_are_refused_to_a_pat_and_errors_can_be_injected() -> None:
    github = FakeGitHub(app=False, deliveries={HookRef(app=True): []})

    with pytest.raises(GitHubAuthError):
        github.list_installation_repositories()
    with pytest.raises(GitHubAuthError):
        github.list_hook_deliveries(HookRef(app=True))
    github.fail_next.append(GitHubUnavailable("down", 503))
    with pytest.raises(GitHubUnavailable):
        github.get_job(REPO, 1)
    assert github.get_job(REPO, 1) is None
