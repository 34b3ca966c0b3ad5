"""runner/buildspec.yml: its environment contract with the control plane and the image-build project,
and its commands run the way CodeBuild runs them, against recording stand-ins for aws and docker."""

import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
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


# Stand-ins for aws, docker, nerdctl and soci. Each records its arguments in $CALLS/<time>.<tool>
# (`docker login` and `nerdctl load` read their stdin first, so that they record after the command
# feeding them through a pipe) and keeps the state the build moves between Docker, containerd and
# the registry in $STATE: an image is a file holding what it is ("image", or "soci-index-v2" once
# converted). The registry behaves like ECR: with FAKE_ECR_MUTABILITY=IMMUTABLE it refuses to push
# a tag that already exists.
FAKE_TOOL = """#!{python}
import os, sys, time
from pathlib import Path

tool, args = Path(sys.argv[0]).name, sys.argv[1:]
state = Path(os.environ["STATE"])
stdin = sys.stdin.read() if (tool, args[:1]) in (("docker", ["login"]), ("nerdctl", ["load"])) else ""
if tool == "docker" and args[:1] == ["login"]:
    Path(os.environ["CALLS"], "login-stdin").write_text(stdin)
record = Path(os.environ["CALLS"], f"{{time.time_ns()}}.{{tool}}")
record.write_bytes(b"".join(a.encode() + b"\\0" for a in args))


def store(name, reference):
    return state / name / reference.replace("/", "%")


def push(source, reference):
    target = store("registry", reference)
    if target.exists() and os.environ.get("FAKE_ECR_MUTABILITY") == "IMMUTABLE":
        tag = reference.rsplit(":", 1)[1]
        sys.exit(f"tag invalid: The image tag '{{tag}}' already exists in the repository and cannot be"
                 " overwritten because the repository is immutable.")
    if not source.exists():
        sys.exit(f"{{tool}}: no such image: {{reference}}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source.read_text())


command = [a for a in args if not a.startswith("--")] if tool == "soci" else args
if tool == "aws":
    if os.environ.get("FAIL_AWS"):
        sys.exit(1)
    print("ecr-password")
elif tool == "docker" and command[0] == "build":
    image = store("docker", args[args.index("--tag") + 1])
    image.parent.mkdir(parents=True, exist_ok=True)
    image.write_text("image")
elif tool == "docker" and command[0] == "push":
    push(store("docker", args[1]), args[1])
elif tool == "docker" and command[0] == "save":
    if not store("docker", args[1]).exists():
        sys.exit(f"docker: no such image: {{args[1]}}")
    print(f"docker-archive {{args[1]}}")
elif tool == "nerdctl" and command[0] == "load":
    reference = stdin.split()[1]
    image = store("containerd", reference)
    image.parent.mkdir(parents=True, exist_ok=True)
    image.write_text("image")
elif tool == "nerdctl" and command[0] == "pull":
    pulled = store("registry", args[-1])
    if not pulled.exists():
        sys.exit(f"nerdctl: {{args[-1]}}: not found")
    store("containerd", args[-1]).parent.mkdir(parents=True, exist_ok=True)
    store("containerd", args[-1]).write_text(pulled.read_text())
elif tool == "nerdctl" and command[0] == "push":
    push(store("containerd", args[-1]), args[-1])
elif tool == "soci" and "convert" in command:
    source, destination = command[command.index("convert") + 1 :][-2:]
    if not store("containerd", source).exists():
        sys.exit(f"soci: image {{source}} not found in containerd")
    store("containerd", destination).write_text("soci-index-v2")
elif tool not in ("docker",) or command[0] != "login":
    sys.exit(f"fake {{tool}}: unexpected call {{args}}")
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


@dataclass
class Build:
    failed_phase: str | None
    calls: Calls
    registry: dict[str, str]  # pushed reference -> what it is ("image" or "soci-index-v2")


def run_like_codebuild(
    buildspec: dict, tmp_path: Path, env: dict[str, str], *, tools: tuple[str, ...] = ("aws", "docker")
) -> Build:
    """Runs the phases in order, each command in bash, a phase stopping the build at its first failing
    command (on-failure: ABORT), with stand-ins for ``tools`` first on PATH. The calls and the
    registry of earlier builds in the same ``tmp_path`` stay: a second build pushes into the same
    repository."""
    source = tmp_path / "src"
    shutil.copytree(RUNNER_DIR, source, dirs_exist_ok=True)
    calls, state, bin_dir = tmp_path / "calls", tmp_path / "state", tmp_path / "bin"
    for directory in (calls, state, bin_dir):
        directory.mkdir(exist_ok=True)
    for tool in tools:
        (bin_dir / tool).write_text(FAKE_TOOL.format(python=sys.executable))
        (bin_dir / tool).chmod(0o755)
    shell_env = {
        **BASE_ENV,
        **env,
        "PATH": f"{bin_dir}:{BASE_ENV['PATH']}",
        "CALLS": str(calls),
        "STATE": str(state),
    }
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
    registry = state / "registry"
    return Build(
        failed_phase,
        [[path.suffix[1:], *path.read_bytes().decode().split("\0")[:-1]] for path in recorded],
        {path.name.replace("%", "/"): path.read_text() for path in registry.iterdir()}
        if registry.is_dir()
        else {},
    )


def test_builds_and_pushes_the_requested_image(buildspec, tmp_path):
    build = run_like_codebuild(buildspec, tmp_path, GOOD_ENV)
    failed, calls = build.failed_phase, build.calls

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
    assert build.registry == {image: "image"}


def test_an_invalid_base_image_stops_the_build_before_docker_runs(buildspec, tmp_path):
    hostile = 'x" ; touch /tmp/pwned'

    build = run_like_codebuild(buildspec, tmp_path, {**GOOD_ENV, "BASE_IMAGE": hostile})

    assert build.failed_phase == "pre_build"
    assert build.calls == []


def test_a_failed_ecr_login_fails_the_build_even_through_the_pipe(buildspec, tmp_path):
    build = run_like_codebuild(buildspec, tmp_path, {**GOOD_ENV, "FAIL_AWS": "1"})

    assert build.failed_phase == "pre_build"
    assert not [call for call in build.calls if call[:2] in (["docker", "build"], ["docker", "push"])]


def module_block(text: str, name: str) -> str:
    """The body of `module "<name>" {...}` in a terraform-fmt formatted file (closing brace in column 0)."""
    match = re.search(rf'^module "{name}" \{{\n(.*?)^\}}', text, re.M | re.S)
    assert match, f'module "{name}" not found'
    return match.group(1)


def complete_example_build() -> tuple[dict[str, str], str]:
    """The image builds examples/complete asks for: the CodeBuild project environment the image-build
    module derives from its inputs, and the runner repository's tag mutability (ecs-fleet)."""
    example = module_block((ROOT / "examples" / "complete" / "main.tf").read_text(), "ecsrunner")
    project = (ROOT / "modules" / "image-build" / "main.tf").read_text()
    fleet = (ROOT / "modules" / "ecs-fleet" / "main.tf").read_text()
    root = (ROOT / "main.tf").read_text()

    assert re.search(r'^  source\s+= "\.\./\.\."$', example, re.M)
    setting = re.search(r"^  enable_soci\s+= (true|false)$", example, re.M)
    assert setting, "examples/complete sets enable_soci"
    assert re.search(r"^  enable_soci\s+= var\.enable_soci$", module_block(root, "image_build"), re.M)
    variables = dict(
        re.findall(r'environment_variable \{\s+name\s+= "(\w+)"\s+value\s+= ([^\n]+)\n', project)
    )
    assert variables == {
        "REPOSITORY_URI": "var.ecr_repository_url",
        "ENABLE_SOCI": "tostring(var.enable_soci)",
    }
    mutability = re.search(r'^  image_tag_mutability = "(\w+)"$', fleet, re.M)
    assert mutability
    # tostring(bool) renders true/false
    return {**GOOD_ENV, "ENABLE_SOCI": setting.group(1)}, mutability.group(1)


@pytest.fixture
def containerd_socket() -> Iterator[str]:
    """A listening Unix socket standing in for the containerd of CodeBuild's dockerd (a short path:
    socket paths are limited to about 100 characters)."""
    with tempfile.TemporaryDirectory(prefix="ctr-") as directory:
        path = str(Path(directory) / "containerd.sock")
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(path)
            server.listen()
            yield path


SOCI_TOOLS = ("aws", "docker", "nerdctl", "soci")


def test_the_complete_example_builds_soci_enabled_images_into_its_immutable_repository(
    buildspec, tmp_path, containerd_socket
):
    env, mutability = complete_example_build()
    image = f"{env['REPOSITORY_URI']}:{env['IMAGE_TAG']}"

    build = run_like_codebuild(
        buildspec,
        tmp_path,
        {**env, "FAKE_ECR_MUTABILITY": mutability, "CONTAINERD_ADDRESS": containerd_socket},
        tools=SOCI_TOOLS,
    )

    assert (env["ENABLE_SOCI"], mutability) == ("true", "IMMUTABLE")
    assert build.failed_phase is None
    assert build.registry == {image: "soci-index-v2"}, "the tag holds the SOCI-enabled image"
    pushes = [call for call in build.calls if call[1] == "push"]
    assert pushes == [["nerdctl", "push", image]], "the tag is pushed exactly once"
    assert [call[:2] for call in build.calls] == [
        ["aws", "ecr"],
        ["docker", "login"],
        ["docker", "build"],
        ["docker", "save"],
        ["nerdctl", "load"],
        ["soci", "--content-store"],
        ["nerdctl", "push"],
    ]
    assert ["soci", "--content-store", "containerd", "convert", image, image] in build.calls


def test_the_stand_in_registry_refuses_to_push_an_existing_tag_like_ecr(buildspec, tmp_path):
    """A build of a tag that is already in the repository fails instead of overwriting it."""
    env = {**GOOD_ENV, "FAKE_ECR_MUTABILITY": "IMMUTABLE"}
    image = f"{env['REPOSITORY_URI']}:{env['IMAGE_TAG']}"
    first = run_like_codebuild(buildspec, tmp_path, env)

    second = run_like_codebuild(buildspec, tmp_path, env)

    assert first.failed_phase is None
    assert second.failed_phase == "build"
    assert [call for call in second.calls if call[:2] == ["docker", "push"]] == [
        ["docker", "push", image]
    ] * 2
    assert second.registry == {image: "image"}


def test_a_failed_soci_conversion_pushes_nothing_so_a_retry_can_take_the_tag(buildspec, tmp_path):
    env = {**GOOD_ENV, "ENABLE_SOCI": "true", "FAKE_ECR_MUTABILITY": "IMMUTABLE"}

    build = run_like_codebuild(
        buildspec, tmp_path, {**env, "CONTAINERD_ADDRESS": str(tmp_path / "no-such.sock")}, tools=SOCI_TOOLS
    )

    assert build.failed_phase == "build"
    assert build.registry == {}
    assert not [call for call in build.calls if call[1] == "push"]
