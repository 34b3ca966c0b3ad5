"""The runner Dockerfile's contract: base image argument, pinned runner and tini, entrypoint, user."""

import json
import re
import shlex

import pytest
from runner_scripts import RUNNER_DIR

SHA256 = re.compile(r"^[0-9a-f]{64}$")
SECRET_WORDS = re.compile(r"TOKEN|SECRET|PASSWORD|JITCONFIG|PRIVATE|CREDENTIAL", re.IGNORECASE)


def instructions() -> list[tuple[str, str]]:
    text = (RUNNER_DIR / "Dockerfile").read_text().replace("\\\n", " ")
    parsed = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, arguments = stripped.partition(" ")
            parsed.append((keyword.upper(), arguments.strip()))
    return parsed


def declared(keyword: str) -> dict[str, str]:
    """NAME=value pairs of every ARG or ENV instruction (one instruction may set several)."""
    values = {}
    for instruction, arguments in instructions():
        if instruction == keyword:
            for assignment in shlex.split(arguments):
                name, _, value = assignment.partition("=")
                values[name] = value
    return values


def run_position(script: str) -> int:
    return next(
        index
        for index, (keyword, arguments) in enumerate(instructions())
        if keyword == "RUN" and f"/usr/local/lib/ecsrunner/{script}" in arguments
    )


def test_base_image_is_an_argument_defaulting_to_ubuntu_22_04():
    parsed = instructions()

    assert parsed[0] == ("ARG", "BASE_IMAGE=ubuntu:22.04")
    assert parsed[1] == ("FROM", "${BASE_IMAGE}")


def test_runner_version_and_both_checksums_are_pinned():
    arguments = declared("ARG")

    assert re.fullmatch(r"2\.\d{3}\.\d+", arguments["RUNNER_VERSION"])
    assert SHA256.match(arguments["RUNNER_SHA256_X64"])
    assert SHA256.match(arguments["RUNNER_SHA256_ARM64"])
    assert arguments["RUNNER_SHA256_X64"] != arguments["RUNNER_SHA256_ARM64"]


def test_tini_is_pinned_for_both_architectures():
    arguments = declared("ARG")

    assert re.fullmatch(r"v\d+\.\d+\.\d+", arguments["TINI_VERSION"])
    assert SHA256.match(arguments["TINI_SHA256_AMD64"])
    assert SHA256.match(arguments["TINI_SHA256_ARM64"])


@pytest.mark.parametrize(
    "name",
    [
        "RUNNER_VERSION",
        "RUNNER_SHA256_X64",
        "RUNNER_SHA256_ARM64",
        "TINI_VERSION",
        "TINI_SHA256_AMD64",
        "TINI_SHA256_ARM64",
    ],
)
def test_install_runner_receives_every_pin(name):
    install_position = run_position("install-runner.sh")
    declared_before = [
        arguments.partition("=")[0]
        for keyword, arguments in instructions()[:install_position]
        if keyword == "ARG"
    ]

    assert name in declared_before
    assert name in (RUNNER_DIR / "install-runner.sh").read_text()


def test_tini_runs_the_entrypoint_as_pid_1():
    entrypoints = [arguments for keyword, arguments in instructions() if keyword == "ENTRYPOINT"]

    assert len(entrypoints) == 1
    command = json.loads(entrypoints[0])
    assert command[0].endswith("/tini")
    assert command[1] == "--"
    assert command[2] == "/usr/local/bin/entrypoint.sh"


def test_runner_home_matches_the_entrypoint_default():
    runner_home = declared("ENV")["RUNNER_HOME"]

    assert f'runner_home="${{RUNNER_HOME:-{runner_home}}}"' in (RUNNER_DIR / "entrypoint.sh").read_text()


def test_the_image_runs_as_the_non_root_runner_user():
    users = [arguments for keyword, arguments in instructions() if keyword == "USER"]

    assert users[-1] == "runner"


def test_no_secret_is_baked_in():
    names = [*declared("ARG"), *declared("ENV")]

    assert not [name for name in names if SECRET_WORDS.search(name)]


def test_every_copied_file_is_in_the_build_context():
    sources = [
        source
        for keyword, arguments in instructions()
        if keyword == "COPY"
        for source in arguments.split()[:-1]
        if not source.startswith("--")
    ]

    assert sources
    assert all((RUNNER_DIR / source).is_file() for source in sources)


# Conventions of GitHub's own runner image (actions/runner images/Dockerfile) that actions rely on.
GITHUB_IMAGE_ENVIRONMENT = {
    "ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT": "1",  # the runner's _diag log reaches CloudWatch
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "AGENT_TOOLSDIRECTORY": "/opt/hostedtoolcache",
    "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache",
}


@pytest.mark.parametrize(("name", "value"), GITHUB_IMAGE_ENVIRONMENT.items())
def test_github_runner_image_environment(name, value):
    assert declared("ENV")[name] == value


def test_the_environment_is_set_before_any_package_is_installed():
    first_env = next(index for index, (keyword, _) in enumerate(instructions()) if keyword == "ENV")

    assert first_env < run_position("install-deps.sh")


def test_image_conventions_run_after_the_runner_and_its_user_exist():
    conventions = run_position("image-conventions.sh")

    assert conventions >= run_position("install-runner.sh") > run_position("install-deps.sh")
    copied = [arguments for keyword, arguments in instructions()[:conventions] if keyword == "COPY"]
    assert any("lsb-release-shim.sh" in arguments.split() for arguments in copied)
