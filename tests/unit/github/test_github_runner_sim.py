"""The simulated runner side: JIT runners coming online, GitHub's label matching, job progress, and
``workflow_job`` payloads built from GitHub's real examples."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

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
    assert (api_job["status"], api_job["runner_id"], api_job["runner_name"]) == (
        "in_progress",
        jit.runner_id,
        "r1",
    )
    assert sim.assign_job(runner.id) is None  # busy

    sim.complete_job(job.id, "success")
    assert client.get_job(REPO, job.id)["conclusion"] == "success"
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
