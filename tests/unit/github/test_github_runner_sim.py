"""The simulated runner side: JIT runners coming online, GitHub's label matching, job progress, and
``workflow_job`` payloads built from GitHub's real examples."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from ecsrunner_core.adapters.github import GitHubClient
from ecsrunner_core.webhook import WorkflowJobEvent, verify_signature
from ecsrunner_sandbox.github_runner_sim import RunnerSimError, RunnerSimulator, webhook_delivery
from ecsrunner_sandbox.github_standin import GitHubStandIn
from ecsrunner_sandbox.github_state import repo_scope

from tests.unit.github.support import REPO

MakeClient = Callable[..., GitHubClient]
EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "github" / "webhooks"


@pytest.fixture
def sim(github: GitHubStandIn) -> RunnerSimulator:
    return RunnerSimulator(github.state)


def test_jit_runner_comes_online_takes_a_matching_job_and_deregisters(
    github: GitHubStandIn, client: GitHubClient, sim: RunnerSimulator
) -> None:
    other = sim.queue_job(REPO, ["self-hosted", "gpu"])
    wanted = sim.queue_job(REPO, ["Self-Hosted", "LINUX"])
    jit = client.generate_jitconfig(name="r1", labels=["self-hosted", "linux", "x64"], runner_group_id=1)

    runner = sim.runner_online(jit.encoded_jit_config)
    assert [(r.name, r.status, r.busy) for r in client.list_runners()] == [("r1", "online", False)]

    job = sim.assign_job(runner.id)
    assert job is wanted  # the older job needs "gpu", which the runner lacks
    assert (job.status, job.runner_name) == ("in_progress", "r1")
    assert [(r.status, r.busy) for r in client.list_runners()] == [("online", True)]
    api_job = client.get_job(REPO, job.id)
    assert api_job is not None
    assert (api_job.status, api_job.runner_id, api_job.runner_name) == ("in_progress", jit.runner_id, "r1")
    assert sim.assign_job(runner.id) is None  # busy

    sim.complete_job(job.id, "success")
    done = client.get_job(REPO, job.id)
    assert done is not None and (done.status, done.conclusion) == ("completed", "success")
    assert list(client.list_runners()) == []  # ephemeral: gone after its one job
    assert other.status == "queued"


def test_runner_only_serves_its_own_repository_or_organisation(
    github: GitHubStandIn, make_client: MakeClient, sim: RunnerSimulator
) -> None:
    sim.queue_job("someone-else/repo", ["self-hosted"])
    mine = sim.queue_job("octo-org/another-repo", ["self-hosted"])
    org_client = make_client(github, org=True)
    runner = sim.runner_online(
        org_client.generate_jitconfig(
            name="org-r", labels=["self-hosted"], runner_group_id=1
        ).encoded_jit_config
    )

    assert sim.assign_job(runner.id) is mine


def test_forged_or_deleted_jit_configs_do_not_come_online(client: GitHubClient, sim: RunnerSimulator) -> None:
    jit = client.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)
    config = json.loads(base64.b64decode(jit.encoded_jit_config))
    forged = base64.b64encode(json.dumps({**config, "secret": "guess"}).encode()).decode()

    with pytest.raises(RunnerSimError, match="forged"):
        sim.runner_online(forged)
    with pytest.raises(RunnerSimError, match="not a JIT config"):
        sim.runner_online("not base64!")
    client.delete_runner(jit.runner_id)
    with pytest.raises(RunnerSimError):
        sim.runner_online(jit.encoded_jit_config)


def test_offline_runner_takes_no_job(
    github: GitHubStandIn, client: GitHubClient, sim: RunnerSimulator
) -> None:
    sim.queue_job(REPO, ["self-hosted"])
    jit = client.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)

    assert sim.assign_job(jit.runner_id) is None  # registered but never connected
    runner = sim.runner_online(jit.encoded_jit_config)
    sim.runner_offline(runner.id)
    assert sim.assign_job(runner.id) is None
    assert github.state.runner_in(repo_scope(REPO), jit.runner_id) is not None


def test_payloads_follow_the_job_and_keep_githubs_shape(client: GitHubClient, sim: RunnerSimulator) -> None:
    job = sim.queue_job(REPO, ["self-hosted", "linux"], name="test", workflow="CI")
    queued = sim.payload(job)
    runner = sim.runner_online(
        client.generate_jitconfig(
            name="r1", labels=["self-hosted", "linux"], runner_group_id=1
        ).encoded_jit_config
    )
    sim.assign_job(runner.id)
    in_progress = sim.payload(job)
    sim.complete_job(job.id, "failure")
    completed = sim.payload(job)

    events = [WorkflowJobEvent.from_payload(p) for p in (queued, in_progress, completed)]
    assert [(e.action, e.job_id, e.repository, e.labels) for e in events] == [
        (action, job.id, REPO, ("self-hosted", "linux")) for action in ("queued", "in_progress", "completed")
    ]
    assert (events[0].runner_name, events[0].runner_id) == (None, None)
    assert (events[1].runner_name, events[1].runner_id) == ("r1", runner.id)
    assert (events[2].conclusion, events[2].run_id, events[2].owner) == ("failure", job.run_id, "octo-org")
    assert completed["organization"]["login"] == "octo-org"
    assert "Codertocat/Hello-World" not in json.dumps(queued["repository"])

    example = json.loads((EXAMPLES / "workflow_job.in_progress.json").read_text())
    assert set(in_progress) == set(example)
    assert set(in_progress["workflow_job"]) == set(example["workflow_job"])
    assert in_progress["sender"] == example["sender"]


def test_webhook_delivery_is_signed_like_github(client: GitHubClient, sim: RunnerSimulator) -> None:
    payload = sim.payload(sim.queue_job(REPO, ["self-hosted"]))

    body, headers = webhook_delivery("workflow_job", payload, b"hook-secret")

    assert verify_signature(b"hook-secret", body, headers["X-Hub-Signature-256"])
    assert not verify_signature(b"other-secret", body, headers["X-Hub-Signature-256"])
    assert headers["X-GitHub-Event"] == "workflow_job"
    assert json.loads(body) == payload


class Recorder:
    """A webhook target that keeps each delivery's payload."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def __call__(self, event: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.payloads.append(json.loads(body))
        return 200

    @property
    def sequence(self) -> list[tuple[str, str]]:
        return [(p["action"], p["workflow_job"]["status"]) for p in self.payloads]


def _example(name: str) -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / name).read_text()))


def test_a_job_behind_a_protected_environment_follows_githubs_sequence(
    github: GitHubStandIn, client: GitHubClient
) -> None:
    recorder = Recorder()
    github.hooks.repository_hook(REPO, recorder, secret=b"s")
    sim = RunnerSimulator(github.state, github.hooks)
    job = sim.queue_job(REPO, ["self-hosted", "linux"], awaiting_approval=True)
    runner = sim.runner_online(
        client.generate_jitconfig(
            name="r1", labels=["self-hosted", "linux"], runner_group_id=1
        ).encoded_jit_config
    )

    assert sim.assign_job(runner.id) is None  # a waiting job is never given to a runner
    fetched = client.get_job(REPO, job.id)
    assert fetched is not None and (fetched.status, fetched.queued) == ("waiting", False)
    sim.approve(job)
    assert sim.assign_job(runner.id) is job
    sim.complete_job(job.id)

    assert recorder.sequence == [
        ("queued", "waiting"),
        ("waiting", "waiting"),
        ("queued", "queued"),
        ("in_progress", "in_progress"),
        ("completed", "completed"),
    ]
    queued_waiting, waiting = recorder.payloads[:2]
    assert set(queued_waiting) == set(_example("workflow_job.queued.with-deployment.json"))
    assert set(queued_waiting["workflow_job"]) == set(
        _example("workflow_job.queued.with-deployment.json")["workflow_job"]
    )
    assert set(waiting["workflow_job"]) == set(_example("workflow_job.waiting.json")["workflow_job"])
    assert "elastic-machines-testing" not in json.dumps(queued_waiting) + json.dumps(waiting)
    assert queued_waiting["deployment"]["repository_url"] == f"https://api.github.com/repos/{REPO}"
    events = [WorkflowJobEvent.from_payload(p) for p in recorder.payloads]
    assert {(e.job_id, e.repository, e.labels) for e in events} == {(job.id, REPO, ("self-hosted", "linux"))}
    assert [len(sim.sent), sim.sent[0].action] == [5, "queued"]


def test_holding_and_approving_only_apply_to_jobs_in_the_right_state(sim: RunnerSimulator) -> None:
    job = sim.queue_job(REPO, ["self-hosted"])

    with pytest.raises(RunnerSimError, match="not waiting"):
        sim.approve(job)
    assert sim.hold_for_approval(job).status == "waiting"
    with pytest.raises(RunnerSimError, match="not queued"):
        sim.hold_for_approval(job)
    assert (sim.payload(job, "queued")["workflow_job"]["status"], sim.payload(job)["action"]) == (
        "waiting",
        "waiting",
    )
    assert sim.approve(job).status == "queued"
    assert sim.payload(job)["workflow_job"]["status"] == "queued"
    assert sim.sent == []  # no hooks: nothing is sent


def test_a_matrix_run_progresses_with_its_jobs(
    github: GitHubStandIn, client: GitHubClient, sim: RunnerSimulator
) -> None:
    jobs = sim.queue_run(REPO, [["self-hosted", "linux"], ["self-hosted", "linux"], ["self-hosted", "gpu"]])
    run = github.state.runs[jobs[0].run_id]

    def state() -> tuple[str, str | None]:
        status, conclusion, _ = github.state.run_state(run)
        return status, conclusion

    assert [job.run_id for job in jobs] == [run.id] * 3
    assert [job.name for job in jobs] == ["build (1)", "build (2)", "build (3)"]
    assert state() == ("queued", None)
    runners = [
        sim.runner_online(
            client.generate_jitconfig(name=f"r{n}", labels=labels, runner_group_id=1).encoded_jit_config
        )
        for n, labels in enumerate([["self-hosted", "linux"], ["self-hosted", "linux", "gpu"]])
    ]
    assert [sim.assign_job(runner.id) for runner in runners] == jobs[:2]
    assert state() == ("in_progress", None)
    sim.complete_job(jobs[0].id, "success")
    sim.complete_job(jobs[1].id, "failure")
    assert state() == ("in_progress", None)  # the gpu job still waits for a runner
    sim.hold_for_approval(jobs[2])
    assert state() == ("waiting", None)
    sim.approve(jobs[2])
    sim.complete_job(jobs[2].id, "success")
    assert state() == ("completed", "failure")
