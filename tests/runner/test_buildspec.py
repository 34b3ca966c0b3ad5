"""runner/buildspec.yml: its environment contract with the control plane and the image-build project,
and its commands run the way CodeBuild runs them, against recording stand-ins for aws and docker."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from runner_scripts import BASE_ENV, RUNNER_DIR

ROOT = RUNNER_DIR.parent
SENT_BY_CONTROL_PLANE = {"BASE_IMAGE", "IMAGE_TAG"}  # StartBuild environment overrides
SET_BY_PROJECT = {"REPOSITORY_URI", "ENABLE_SOCI"}
PROVIDED_BY_CODEBUILD = {"AWS_REGION", "AWS_DEFAULT_REGION"}
VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
DOUBLE_QUOTED = re.compile(r'"[^"]*"')
PHASES = ("install", "pre_build", "build", "post_build")


@pytest.fixture(scope="module")
def buildspec() -> dict:
    return yaml.safe_load((RUNNER_DIR / "buildspec.yml").read_text())


def commands(buildspec: dict) -> list[str]:
    return [command for phase in buildspec["phases"].values() for command in phase["commands"]]


def test_is_a_version_0_2_buildspec_run_by_bash(buildspec):
    assert str(buildspec["version"]) == "0.2"
    assert buildspec["env"]["shell"] == "bash"


def test_every_phase_aborts_the_build_on_failure_and_nothing_runs_after_a_failed_build(buildspec):
    assert set(buildspec["phases"]) <= set(PHASES)
    assert "post_build" not in buildspec["phases"]
    assert all(phase["on-failure"] == "ABORT" for phase in buildspec["phases"].values())


def test_uses_only_variables_the_control_plane_project_or_codebuild_provide(buildspec):
    own = set(buildspec["env"].get("variables", {}))
    used = {name for command in commands(buildspec) for name in VARIABLE.findall(command)}

    unknown = {
        name
        for name in used - own - SENT_BY_CONTROL_PLANE - SET_BY_PROJECT - PROVIDED_BY_CODEBUILD
        if not name.startswith("CODEBUILD_")
    }
    assert not unknown
    assert used >= SENT_BY_CONTROL_PLANE | SET_BY_PROJECT


def test_the_contract_names_are_the_ones_design_md_documents():
    design = (ROOT / "docs" / "DESIGN.md").read_text()

    assert all(f"`{name}`" in design for name in SENT_BY_CONTROL_PLANE | SET_BY_PROJECT)


def test_validates_before_anything_else(buildspec):
    first_phase = next(iter(buildspec["phases"].values()))

    assert first_phase["commands"][0] == "bash ./validate-build-env.sh"


def test_every_script_it_calls_is_in_the_build_context(buildspec):
    scripts = {
        script for command in commands(buildspec) for script in re.findall(r"\./([\w.-]+\.sh)", command)
    }

    assert scripts
    assert all((RUNNER_DIR / script).is_file() for script in scripts)


def test_build_values_are_always_quoted(buildspec):
    for command in commands(buildspec):
        unquoted = DOUBLE_QUOTED.sub("", command)
        assert not set(VARIABLE.findall(unquoted)) & (SENT_BY_CONTROL_PLANE | SET_BY_PROJECT), command


# Records its arguments in $CALLS/<time>.<tool>; `docker login` reads its stdin first, so that it
# records after the `aws` feeding it through the pipe.
FAKE_TOOL = """#!/bin/sh
tool="$(basename "$0")"
[ "$tool" = docker ] && [ "$1" = login ] && cat > "$CALLS/login-stdin"
printf '%s\\0' "$@" > "$CALLS/$(date +%s%N).$tool"
[ "$tool" = aws ] && [ -n "$FAIL_AWS" ] && exit 1
[ "$tool" = aws ] && echo ecr-password
exit 0
"""
GOOD_ENV = {
    "BASE_IMAGE": "public.ecr.aws/docker/library/debian:12",
    "IMAGE_TAG": "debian-12-abc123",
    "REPOSITORY_URI": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecsrunner-runner",
    "ENABLE_SOCI": "false",
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


Calls = list[list[str]]


def run_like_codebuild(buildspec: dict, tmp_path: Path, env: dict[str, str]) -> tuple[str | None, Calls]:
    """Runs the phases in order, each command in bash, a phase stopping the build at its first failing
    command (on-failure: ABORT). Returns the failed phase, if any, and the aws/docker calls made."""
    source = tmp_path / "src"
    shutil.copytree(RUNNER_DIR, source)
    calls = tmp_path / "calls"
    calls.mkdir()
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("aws", "docker"):
        (tools / tool).write_text(FAKE_TOOL)
        (tools / tool).chmod(0o755)
    shell_env = {**BASE_ENV, **env, "PATH": f"{tools}:{BASE_ENV['PATH']}", "CALLS": str(calls)}
    failed_phase = None
    for name in PHASES:
        phase = buildspec["phases"].get(name)
        if phase is None:
            continue
        for command in phase["commands"]:
            result = subprocess.run(
                ["bash", "-c", command], cwd=source, env=shell_env, check=False, timeout=60
            )
            if result.returncode != 0:
                failed_phase = name
                break
        if failed_phase:
            break
    recorded = sorted((path for path in calls.iterdir() if path.suffix), key=lambda path: int(path.stem))
    return failed_phase, [
        [path.suffix[1:], *path.read_bytes().decode().split("\0")[:-1]] for path in recorded
    ]


def test_builds_and_pushes_the_requested_image(buildspec, tmp_path):
    failed, calls = run_like_codebuild(buildspec, tmp_path, GOOD_ENV)

    registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    image = f"{GOOD_ENV['REPOSITORY_URI']}:{GOOD_ENV['IMAGE_TAG']}"
    base_image_arg = f"BASE_IMAGE={GOOD_ENV['BASE_IMAGE']}"
    assert failed is None
    assert calls == [
        ["aws", "ecr", "get-login-password"],
        ["docker", "login", "--username", "AWS", "--password-stdin", registry],
        ["docker", "build", "--pull", "--build-arg", base_image_arg, "--tag", image, "."],
        ["docker", "push", image],
    ]
    assert (tmp_path / "calls" / "login-stdin").read_text() == "ecr-password\n"


def test_an_invalid_base_image_stops_the_build_before_docker_runs(buildspec, tmp_path):
    hostile = 'x" ; touch /tmp/pwned'

    failed, calls = run_like_codebuild(buildspec, tmp_path, {**GOOD_ENV, "BASE_IMAGE": hostile})

    assert failed == "pre_build"
    assert calls == []


def test_a_failed_ecr_login_fails_the_build_even_through_the_pipe(buildspec, tmp_path):
    failed, calls = run_like_codebuild(buildspec, tmp_path, {**GOOD_ENV, "FAIL_AWS": "1"})

    assert failed == "pre_build"
    assert not [call for call in calls if call[:2] in (["docker", "build"], ["docker", "push"])]
