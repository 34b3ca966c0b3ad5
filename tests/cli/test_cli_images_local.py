"""`images build --local`: the docker SDK against an engine, the ECR push, the READY record.

There is no Docker engine on this machine: the SDK talks over real HTTP to a loopback stand-in for
the Engine API endpoints it uses (version, build, push); the push puts the tag in ECR. AWS is a
moto server here, not moto in-process: in-process moto intercepts every `requests` call whose URL
mentions amazonaws.com, and the engine's push URL names the ECR repository.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from ecsrunner_core.domain.images import ImageState
from ecsrunner_core.domain.names import derive_image_tag
from ecsrunner_core.settings import Settings
from ecsrunner_core.usecases.images import start_image_build
from ecsrunner_core.wiring import Services
from ecsrunner_sandbox.moto_server import MotoServer, moto_server
from ecsrunner_sandbox.provision import provision, push_image

from tests.cli.cli_servers import DockerEngineStandIn, serve

UBUNTU = "docker.io/library/ubuntu:22.04"
# moto's ECR authorization token is base64("AWS:123456789012-auth-token").
ECR_AUTH = {"username": "AWS", "password": "123456789012-auth-token"}


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    with moto_server() as running:
        yield running


@pytest.fixture(scope="module")
def remote(server: MotoServer) -> tuple[boto3.Session, Settings]:
    """One deployment on the server for the module; each test builds its own base image."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in server.client_environment().items():
            env.setenv(name, value)
        session = boto3.Session(region_name=server.region)
        return session, provision(session).settings


@pytest.fixture
def session(remote) -> boto3.Session:
    return remote[0]


@pytest.fixture
def deployed(server: MotoServer, remote, configure) -> Settings:
    """The operator's environment: the deployment, and AWS_ENDPOINT_URL (boto3 reads it itself)."""
    settings = remote[1]
    configure(settings, **server.client_environment())
    return settings


@pytest.fixture
def services(session, deployed) -> Services:
    return Services(deployed, session)


@pytest.fixture
def engine(session, deployed, clean_env):
    def registry_receives(repository: str, tag: str) -> None:
        assert repository == deployed.ecr_repository_url
        push_image(session, deployed, tag)

    standin = DockerEngineStandIn(on_push=registry_receives, expected_auth=ECR_AUTH)
    with serve(standin.answer, chunked=True) as server:
        clean_env.setenv("DOCKER_HOST", server.url.replace("http://", "tcp://"))
        yield standin


def test_no_engine_is_one_line(cli, deployed, services, clean_env, tmp_path) -> None:
    clean_env.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
    result = cli("images", "build", "--local", "debian:12")
    assert result.code == 1
    assert result.err.splitlines()[-1].startswith("error: no Docker engine available: ")
    assert len(result.err.splitlines()) == 2  # the target line, then the error
    tag = derive_image_tag("docker.io/library/debian:12", deployed.build_context_digest, "x86_64")
    assert services.store.get_image(tag) is None  # no lock taken


def test_builds_pushes_and_records_ready(cli, deployed, services, engine: DockerEngineStandIn) -> None:
    tag = derive_image_tag("docker.io/library/node:20", deployed.build_context_digest, "arm64")
    uri = f"{deployed.ecr_repository_url}:{tag}"
    result = cli("images", "build", "--local", "node:20", "--arch", "arm64")
    assert result.code == 0, result.err
    assert result.out == f"built: {uri} (READY, 6.9 KiB)\n"
    [build] = engine.built
    assert build["tag"] == uri
    assert build["buildargs"] == {"BASE_IMAGE": "docker.io/library/node:20"}
    assert build["platform"] == "linux/arm64"
    assert {"Dockerfile", "entrypoint.sh"} <= set(build["files"])  # the repository's runner/ context
    assert engine.pushed == [(deployed.ecr_repository_url, tag)]
    assert "Step 1/9 : ARG BASE_IMAGE=ubuntu:22.04" in result.err
    assert f"{tag}: digest: sha256:" in result.err
    image = services.store.get_image(tag)
    assert (image.state, image.architecture, image.base_image) == (
        ImageState.READY,
        "arm64",
        "docker.io/library/node:20",
    )
    assert image.task_definition_arn


def test_build_error_releases_the_lock(cli, deployed, services, engine: DockerEngineStandIn) -> None:
    engine.fail_build = "failed to resolve source metadata for docker.io/library/alpine:3.20"
    result = cli("images", "build", "--local", "alpine:3.20")
    assert result.code == 1
    assert result.err.endswith(
        "error: docker build failed: failed to resolve source metadata for docker.io/library/alpine:3.20\n"
    )
    assert engine.pushed == []
    tag = derive_image_tag("docker.io/library/alpine:3.20", deployed.build_context_digest, "x86_64")
    assert services.store.get_image(tag) is None  # a later build may start


def test_refused_push_is_reported(cli, deployed, services, engine: DockerEngineStandIn) -> None:
    engine.expected_auth = {"username": "AWS", "password": "someone-elses-token"}
    result = cli("images", "build", "--local", "fedora:40")
    assert result.code == 1
    assert result.err.endswith("error: docker push failed: no basic auth credentials\n")
    tag = derive_image_tag("docker.io/library/fedora:40", deployed.build_context_digest, "x86_64")
    assert services.store.get_image(tag) is None


def test_already_built_needs_no_engine(cli, session, deployed, clean_env, tmp_path) -> None:
    clean_env.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
    tag = derive_image_tag(UBUNTU, deployed.build_context_digest, "x86_64")
    push_image(session, deployed, tag)
    result = cli("images", "build", "--local")
    assert (result.code, result.out) == (
        0,
        f"already built: {deployed.ecr_repository_url}:{tag} (READY, 6.9 KiB)\n",
    )


def test_a_running_build_holds_the_tag(cli, deployed, services, engine) -> None:
    tag = derive_image_tag("docker.io/library/ubuntu:24.04", deployed.build_context_digest, "x86_64")
    theirs = start_image_build(
        services.deps(), base_image="docker.io/library/ubuntu:24.04", tag=tag, architecture="x86_64"
    )
    result = cli("images", "build", "--local", "ubuntu:24.04")
    assert result.code == 1
    assert result.err.endswith(
        f"error: another build ({theirs.build_id}) holds {tag}: wait for it with `images build`\n"
    )
    assert engine.built == []


def test_context_without_a_dockerfile(cli, deployed, tmp_path) -> None:
    result = cli("images", "build", "--local", "--context", str(tmp_path))
    assert result.code == 1
    assert result.err.endswith(
        f"error: no Dockerfile in {tmp_path}: pass --context DIR (the repository's runner/)\n"
    )
