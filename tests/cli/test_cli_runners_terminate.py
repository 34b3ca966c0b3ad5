"""`runners terminate`: stop the task, deregister from GitHub, mark OFFLINE; idempotent; confirmed."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import boto3
import pytest
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.ports import TaskRequest
from ecsrunner_core.wiring import Services
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn, serving
from ecsrunner_sandbox.github_state import repo_scope
from ecsrunner_sandbox.provision import Deployment, provision

from tests.cli.cli_records import REPOSITORY, create, runner
from tests.cli.conftest import shared_moto

PAT_SECRET = f'{{"type": "pat", "token": "{DEFAULT_PAT}"}}'
_numbers = itertools.count(1)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@dataclass
class Live:
    """A runner with everything terminate must clean up: a task, a GitHub registration, a JIT object."""

    name: str
    deployment: Deployment
    services: Services
    github: GitHubStandIn
    task_arn: str
    github_runner_id: int
    job_id: int

    def task(self) -> dict:
        ecs = self.services.client("ecs")
        cluster = self.deployment.settings.cluster_arn
        return ecs.describe_tasks(cluster=cluster, tasks=[self.task_arn])["tasks"][0]

    def jit_object_exists(self) -> bool:
        s3 = self.services.client("s3")
        listing = s3.list_objects_v2(Bucket=self.deployment.settings.jit_bucket, Prefix=f"jit/{self.name}")
        return listing.get("KeyCount", 0) > 0

    def status(self) -> RunnerStatus:
        record = self.services.store.get(self.name)
        assert record is not None
        return record.status


@dataclass(frozen=True)
class World:
    """One deployment for the module, its GitHub on the stand-in; every test adds its own runner."""

    session: boto3.Session
    deployment: Deployment
    github: GitHubStandIn

    def set_credentials(self, secret: str) -> None:
        sm = self.session.client("secretsmanager")
        sm.put_secret_value(
            SecretId=self.deployment.settings.github_credentials_secret_arn, SecretString=secret
        )


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with shared_moto() as session, serving() as github:
        deployment = provision(session, github_api_url=github.api_url, github_credentials=PAT_SECRET)
        yield World(session, deployment, github)


@pytest.fixture
def live(world: World, configure) -> Iterator[Live]:
    """A RUNNING runner with a task, a GitHub registration and a JIT object."""
    name = f"ecsr-doomed-{next(_numbers)}"
    services = Services(world.deployment.settings, world.session)
    settings = world.deployment.settings
    task_arn = services.launcher.run_task(
        TaskRequest(
            runner_name=name,
            task_definition_arn=settings.base_task_definition_arn,
            cpu=1024,
            memory=2048,
            spot=False,
            environment_file_arn=services.jit.put(name, "ACTIONS_RUNNER_INPUT_JITCONFIG=not-a-real-config"),
            tags={"ecsrunner:runner-name": name},
            client_token=name,
        )
    )
    registered = world.github.state.register_runner(
        repo_scope(REPOSITORY), name, labels=("self-hosted",), group_id=1, work_folder="_work", secret="s"
    )
    assert registered is not None
    job_id = 7000 + next(_numbers)
    create(
        services,
        runner(
            name,
            job_id=job_id,
            age=timedelta(minutes=30),
            status=RunnerStatus.RUNNING,
            task_arn=task_arn,
            github_runner_id=registered.id,
        ),
    )
    configure(settings)
    yield Live(name, world.deployment, services, world.github, task_arn, registered.id, job_id)
    world.set_credentials(PAT_SECRET)


def test_terminate_stops_deregisters_and_marks_offline(cli, live: Live) -> None:
    assert live.task()["lastStatus"] != "STOPPED" and live.jit_object_exists()
    result = cli("runners", "terminate", live.name, "--yes")
    assert result.code == 0, result.err
    assert result.out == f"terminated {live.name}: OFFLINE (terminated by operator)\n"
    record = live.services.store.get(live.name)
    assert record is not None
    assert (record.status, record.status_reason) == (RunnerStatus.OFFLINE, "terminated by operator")
    assert record.history[-1].reason == "terminated by operator"
    task = live.task()
    assert (task["lastStatus"], task["stoppedReason"]) == ("STOPPED", "terminated by operator")
    assert live.github_runner_id not in live.github.state.runners
    assert live.github.calls_to("DELETE", f"/actions/runners/{live.github_runner_id}")
    assert not live.jit_object_exists()
    assert live.github.violations == []


def test_terminate_twice_is_a_no_op(cli, live: Live) -> None:
    assert cli("runners", "terminate", live.name, "--yes").code == 0
    deletes = len(live.github.calls)
    again = cli("runners", "terminate", live.name, "--yes")
    assert again.code == 0
    assert again.out == f"{live.name} is already OFFLINE: terminated by operator\n"
    assert len(live.github.calls) == deletes  # nothing repeated


def test_failed_runner_is_left_alone(cli, live: Live) -> None:
    create(live.services, runner("ecsr-broken", job_id=5, age=timedelta(hours=1), status=RunnerStatus.FAILED))
    result = cli("runners", "terminate", "ecsr-broken", "--yes")
    assert (result.code, result.out) == (0, "ecsr-broken is already FAILED: moved to FAILED\n")


def test_unknown_runner_is_refused(cli, live: Live) -> None:
    result = cli("runners", "terminate", "ecsr-nobody", "--yes")
    assert (result.code, result.out, result.err) == (1, "", "error: no runner 'ecsr-nobody'\n")


def test_without_a_terminal_and_without_yes_nothing_happens(cli, live: Live) -> None:
    result = cli("runners", "terminate", live.name)
    assert result.code == 1
    assert result.err == "error: not a terminal: pass --yes to terminate without confirmation\n"
    assert live.status() is RunnerStatus.RUNNING
    assert live.task()["lastStatus"] != "STOPPED"


@pytest.mark.parametrize(
    ("answer", "code", "status"), [("y\n", 0, "OFFLINE"), ("n\n", 1, "RUNNING"), ("", 1, "RUNNING")]
)
def test_terminal_confirmation(cli, live: Live, monkeypatch, answer: str, code: int, status: str) -> None:
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    result = cli("runners", "terminate", live.name)
    assert result.code == code
    job = f"{REPOSITORY}#{live.job_id}"
    assert f"terminate {live.name} (RUNNING, job {job})? [y/N]" in result.err
    assert live.status().value == status
    assert ("not terminated" in result.err) is (code == 1)


def test_github_refusing_deregistration_is_reported_and_the_runner_still_ends(
    cli, world: World, live: Live
) -> None:
    world.set_credentials('{"type": "pat", "token": "ghp_revoked"}')
    result = cli("runners", "terminate", live.name, "--yes")
    assert result.code == 0
    assert result.out == f"terminated {live.name}: OFFLINE (terminated by operator)\n"
    assert (
        f"warning: cleanup of {live.name} incomplete (the janitor retries): delete GitHub runner:"
        in result.err
    )
    assert "401 Bad credentials" in result.err
    assert "ghp_revoked" not in result.err + result.out
    assert live.status() is RunnerStatus.OFFLINE
    assert live.task()["lastStatus"] == "STOPPED"
    assert live.github_runner_id in world.github.state.runners


def test_unusable_credentials_secret_still_ends_the_runner(cli, world: World, live: Live) -> None:
    world.set_credentials('{"type": "pat"}')
    result = cli("runners", "terminate", live.name, "--yes")
    # The runner ends anyway (task stopped, OFFLINE); the operator is told which cleanup step failed.
    assert result.code == 0
    assert result.out == f"terminated {live.name}: OFFLINE (terminated by operator)\n"
    assert result.err == (
        f"warning: cleanup of {live.name} incomplete (the janitor retries): delete GitHub runner: "
        'CredentialsError: GitHub credentials secret: missing field "token"\n'
    )
    assert live.status() is RunnerStatus.OFFLINE
    assert live.task()["lastStatus"] == "STOPPED"
