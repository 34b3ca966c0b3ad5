"""`images build`: the control plane's tag and lock, a CodeBuild build followed to its end.

moto's CodeBuild reports SUCCEEDED on the first BatchGetBuilds and never pushes an image: a hook on
the CLI's StartBuild pushes the tag to ECR as a real build would, and a hook on BatchGetBuilds
plays a failing build.
"""

from __future__ import annotations

import io
from typing import Any

import boto3
import pytest
from ecsrunner_core.domain.images import ImageState
from ecsrunner_core.domain.names import derive_image_tag
from ecsrunner_core.usecases.images import start_image_build
from ecsrunner_core.usecases.prebuild import image_target, lock_local_build
from ecsrunner_sandbox.provision import Deployment, push_image

from tests.cli.conftest import forget_images

UBUNTU = "docker.io/library/ubuntu:22.04"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def session(shared_deployment) -> boto3.Session:
    return shared_deployment[0]


@pytest.fixture
def deployment(shared_deployment) -> Deployment:
    """The module's deployment, without the images earlier tests built."""
    session, deployment = shared_deployment
    forget_images(session, deployment)
    return deployment


@pytest.fixture
def deployed(deployment, configure):
    configure(deployment.settings)
    return deployment.settings


@pytest.fixture
def codebuild(session, deployed, session_hooks) -> list[dict[str, Any]]:
    """StartBuild requests the CLI makes; each build "pushes" its IMAGE_TAG to ECR."""
    started: list[dict[str, Any]] = []

    def build_pushes(params: dict[str, Any], **_: Any) -> None:
        started.append(params)
        env = {v["name"]: v["value"] for v in params["environmentVariablesOverride"]}
        push_image(session, deployed, env["IMAGE_TAG"])

    session_hooks.append(("before-parameter-build.codebuild.StartBuild", build_pushes))
    return started


def uri(settings, tag: str) -> str:
    return f"{settings.ecr_repository_url}:{tag}"


def test_builds_the_default_image_under_the_control_planes_tag(cli, deployed, services, codebuild) -> None:
    tag = derive_image_tag(UBUNTU, deployed.build_context_digest, "x86_64")
    result = cli("images", "build", "--poll-interval", "0")
    assert result.code == 0, result.err
    assert result.out == f"built: {uri(deployed, tag)} (READY, 6.9 KiB)\n"
    [request] = codebuild
    env = {v["name"]: v["value"] for v in request["environmentVariablesOverride"]}
    assert env == {"BASE_IMAGE": UBUNTU, "IMAGE_TAG": tag}
    assert request["projectName"] == deployed.codebuild_project_name
    lines = result.err.splitlines()
    assert lines[0] == f"{UBUNTU} (x86_64) -> {uri(deployed, tag)}"
    build_id = lines[1].split()[2]
    assert lines[1].startswith(f"started build {deployed.codebuild_project_name}:")
    assert lines[2:] == [f"build {build_id}: COMPLETED (SUCCEEDED)"]
    image = services.store.get_image(tag)
    assert image is not None and image.state is ImageState.READY
    assert image.build_id == build_id and image.size_bytes == 7023
    assert image.task_definition_arn and ":task-definition/ecsr-runner-" in image.task_definition_arn


def test_second_build_finds_it_built(cli, deployed, codebuild) -> None:
    assert cli("images", "build", "ubuntu:22.04", "--poll-interval", "0").code == 0
    again = cli("images", "build", "docker.io/library/ubuntu:22.04")
    assert again.code == 0
    tag = derive_image_tag(UBUNTU, deployed.build_context_digest, "x86_64")
    assert again.out == f"already built: {uri(deployed, tag)} (READY, 6.9 KiB)\n"
    assert len(codebuild) == 1


def test_image_pushed_out_of_band_is_registered_not_rebuilt(
    cli, session, deployed, services, codebuild
) -> None:
    tag = derive_image_tag("docker.io/library/node:20", deployed.build_context_digest, "arm64")
    push_image(session, deployed, tag)
    result = cli("images", "build", "node:20", "--arch", "arm64")
    assert result.code == 0
    assert result.out.startswith(f"already built: {uri(deployed, tag)} (READY")
    assert codebuild == []
    assert services.store.get_image(tag).state is ImageState.READY


def test_arm64_builds_on_arm(cli, deployed, codebuild) -> None:
    result = cli("images", "build", "node:20", "--arch", "arm64", "--poll-interval", "0")
    assert result.code == 0, result.err
    assert codebuild[0]["environmentTypeOverride"] == "ARM_CONTAINER"
    assert "node-20-arm64-" in result.out


def test_follows_a_build_the_control_plane_started(
    cli, deployed, services, session, session_hooks, aws_calls
):
    tag = derive_image_tag(UBUNTU, deployed.build_context_digest, "x86_64")
    theirs = start_image_build(services.deps(), base_image=UBUNTU, tag=tag, architecture="x86_64")
    assert theirs is not None and theirs.build_id

    def finishes(**_: Any) -> None:
        push_image(session, deployed, tag)

    session_hooks.append(("before-call.codebuild.BatchGetBuilds", finishes))
    result = cli("images", "build", "--poll-interval", "0")
    assert result.code == 0, result.err
    assert f"following the build already in progress: build {theirs.build_id}" in result.err
    assert "codebuild.StartBuild" not in aws_calls
    assert services.store.get_image(tag).state is ImageState.READY


def test_failed_build_exits_1_with_the_logs(cli, deployed, services, codebuild, session_hooks) -> None:
    def fails(parsed: dict[str, Any], **_: Any) -> None:
        for build in parsed.get("builds", []):
            build["buildStatus"], build["currentPhase"] = "FAILED", "BUILD"

    session_hooks.append(("after-call.codebuild.BatchGetBuilds", fails))
    result = cli("images", "build", "--poll-interval", "0")
    assert result.code == 1
    build_line = result.err.splitlines()[-2]
    assert build_line.endswith(": BUILD (FAILED)")
    assert result.err.splitlines()[-1].startswith("error: build ecsr-image-build:")
    assert " FAILED: logs at https://" in result.err
    tag = derive_image_tag(UBUNTU, deployed.build_context_digest, "x86_64")
    # The control plane records the failure from the build's event; the CLI leaves the lock to it.
    assert services.store.get_image(tag).state is ImageState.BUILDING


def test_no_wait_prints_the_build_id(cli, deployed, services, codebuild) -> None:
    result = cli("images", "build", "--no-wait")
    assert result.code == 0
    build_id = result.out.strip()
    assert build_id.startswith(f"{deployed.codebuild_project_name}:")
    tag = derive_image_tag(UBUNTU, deployed.build_context_digest, "x86_64")
    image = services.store.get_image(tag)
    assert (image.state, image.build_id) == (ImageState.BUILDING, build_id)


def test_progress_on_a_terminal_is_a_spinner(cli, deployed, codebuild, monkeypatch) -> None:
    monkeypatch.setattr("sys.stderr", Terminal())
    from ecsrunner.app import main

    assert main(["images", "build", "--poll-interval", "0"]) == 0
    err = __import__("sys").stderr.getvalue()
    assert "\r\033[K| build ecsr-image-build:" in err or "\r\033[K/ build ecsr-image-build:" in err
    assert err.endswith(": COMPLETED (SUCCEEDED)\n")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["Ubuntu:22.04"], 2, "error: invalid image reference 'Ubuntu:22.04': path component 'Ubuntu'"),
        (["ubuntu:22.04 "], 2, "error: invalid image reference 'ubuntu:22.04 ': contains whitespace"),
    ],
)
def test_invalid_references_are_usage_errors(cli, deployed, codebuild, argv, code, message) -> None:
    result = cli("images", "build", *argv)
    assert result.code == code
    assert result.err.startswith(message)
    assert codebuild == []


def test_images_outside_the_allowed_list_are_refused(cli, deployed, configure, codebuild) -> None:
    configure(ALLOWED_BASE_IMAGES="docker.io/library/ubuntu:*,ghcr.io/octo-org/*")
    refused = cli("images", "build", "node:20")
    assert refused.code == 1
    assert refused.err.endswith(
        "error: node:20 is not allowed by allowed_base_images "
        "(docker.io/library/ubuntu:*, ghcr.io/octo-org/*)\n"
    )
    assert cli("images", "build", "ghcr.io/octo-org/runner:1", "--poll-interval", "0").code == 0
    assert cli("images", "build", "--poll-interval", "0").code == 0  # the default is always allowed
    assert len(codebuild) == 2


def test_disabled_image_builds_point_to_local(cli, session, deployed, configure, codebuild) -> None:
    configure(ENABLE_IMAGE_BUILD="false")
    result = cli("images", "build")
    assert result.code == 1
    assert result.err.endswith(
        "error: image builds are disabled in this deployment (ENABLE_IMAGE_BUILD=false): use --local\n"
    )
    tag = derive_image_tag(UBUNTU, deployed.build_context_digest, "x86_64")
    push_image(session, deployed, tag)  # pre-built elsewhere, e.g. with --local
    assert cli("images", "build").out == f"already built: {uri(deployed, tag)} (READY, 6.9 KiB)\n"
    assert codebuild == []


def test_missing_project(cli, deployed, configure, session_hooks) -> None:
    configure(CODEBUILD_PROJECT_NAME="no-such-project")
    result = cli("images", "build")
    assert result.code == 1
    assert result.err.splitlines()[-1].startswith("error: AWS StartBuild failed: ResourceNotFoundException")


def test_a_lock_without_a_codebuild_build_is_reported(cli, deployed, services, codebuild) -> None:
    target = image_target(deployed, None, "x86_64")
    assert lock_local_build(services.deps(), target) is not None  # an `images build --local` elsewhere
    result = cli("images", "build", "--timeout", "0", "--poll-interval", "0")
    assert result.code == 1
    assert result.err.endswith(
        f"error: {target.tag} is held by a build without a CodeBuild id (`images build --local`?); "
        "try again when it ends\n"
    )
    assert codebuild == []
