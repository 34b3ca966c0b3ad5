"""Run the Terraform CLI for tests, the demo, benchmarks and scripts/terraform_check.py.

Offline machines carry a filesystem mirror of the providers (a directory holding
``registry.terraform.io/``); when one is found, a generated CLI configuration installs providers
from it only. Elsewhere Terraform uses the public registry, with a shared plugin cache. The
configuration is copied to a scratch directory first, so no state, lock file or ``.terraform/``
ever lands in the repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
MIRROR_ENV = "ECSRUNNER_TF_PROVIDER_MIRROR"
MIRROR_MARKER = "registry.terraform.io"
MIRROR_SEARCH_DEPTH = 4
SKIPPED_SEARCH_ROOTS = frozenset({"/proc", "/sys", "/dev", "/run"})
CONFIG_DIRS = ("modules", "examples")
TEST_DIR = Path("tests/terraform")
ARTIFACTS = ("lambda.zip", "runner-context.zip")
IGNORED_NAMES = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "terraform.tfstate*", "*.tfplan")
PLACEHOLDER_TIME = (2020, 1, 1, 0, 0, 0)


MOTO_LOST_EGRESS_RULE = "revoking default IPv4 egress rule for Security Group"


class TerraformError(RuntimeError):
    """A Terraform command failed; the message carries its output."""

    def __init__(self, args: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"terraform {' '.join(args)} exited with {returncode}\n"
            f"--- stdout (tail) ---\n{stdout[-6000:]}\n--- stderr ---\n{stderr[-6000:]}"
        )


def find_terraform() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        raise FileNotFoundError("terraform is not on PATH; install Terraform >= 1.9")
    return binary


@cache
def find_provider_mirror() -> Path | None:
    """Directory that contains ``registry.terraform.io/``, or None when providers come from the registry."""
    override = os.environ.get(MIRROR_ENV)
    if override:
        path = Path(override)
        return path if (path / MIRROR_MARKER).is_dir() else None
    return _search_mirror(Path("/"), MIRROR_SEARCH_DEPTH)


def _search_mirror(root: Path, depth: int) -> Path | None:
    """Breadth-first search (like ``find / -maxdepth 4 -name registry.terraform.io``), shallowest first."""
    level = [root]
    for _ in range(depth):
        next_level: list[Path] = []
        for directory in level:
            try:
                children = sorted(os.scandir(directory), key=lambda entry: entry.name)
            except OSError:
                continue
            for entry in children:
                if not entry.is_dir(follow_symlinks=False) or entry.path in SKIPPED_SEARCH_ROOTS:
                    continue
                if entry.name == MIRROR_MARKER:
                    return directory
                next_level.append(Path(entry.path))
        level = next_level
    return None


def plugin_cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ecsrunner" / "terraform-plugins"


def write_cli_config(directory: Path, mirror: Path | None) -> Path:
    """Write a CLI configuration: the mirror only when there is one, else the registry with a cache."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "terraform.rc"
    if mirror is not None:
        text = (
            "provider_installation {\n"
            "  filesystem_mirror {\n"
            f"    path = {json.dumps(str(mirror))}\n"
            "  }\n"
            "}\n"
        )
    else:
        cache_dir = plugin_cache_dir()
        cache_dir.mkdir(parents=True, exist_ok=True)
        text = (
            f"plugin_cache_dir = {json.dumps(str(cache_dir))}\n"
            "plugin_cache_may_break_dependency_lock_file = true\n"
        )
    path.write_text(text)
    return path


def write_placeholder_zip(path: Path, member: str, text: str) -> Path:
    """A small byte-stable zip standing in for a build artefact that ``make build`` has not produced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    info = zipfile.ZipInfo(member, date_time=PLACEHOLDER_TIME)
    info.external_attr = 0o644 << 16
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(info, text)
    return path


def stage_configuration(destination: Path, *, repo_root: Path = REPO_ROOT) -> Path:
    """Copy the root module, modules/, examples/, the Terraform tests and dist/ artefacts.

    Relative module sources (``../..``) keep working because the layout is preserved. Artefacts
    missing from dist/ are replaced by placeholders so plans can hash them.
    """
    destination.mkdir(parents=True, exist_ok=True)
    for source in sorted(repo_root.glob("*.tf")):
        shutil.copy2(source, destination / source.name)
    for name in CONFIG_DIRS:
        if (repo_root / name).is_dir():
            shutil.copytree(repo_root / name, destination / name, ignore=IGNORED_NAMES, dirs_exist_ok=True)
    for test_file in sorted((repo_root / TEST_DIR).glob("*.tftest.hcl")):
        target = destination / TEST_DIR / test_file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(test_file, target)
    for artefact in ARTIFACTS:
        built = repo_root / "dist" / artefact
        target = destination / "dist" / artefact
        if built.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(built, target)
        else:
            write_placeholder_zip(target, "PLACEHOLDER.txt", f"placeholder for dist/{artefact}\n")
    return destination


def parse_test_summary(output: str) -> tuple[int, int]:
    """(passed, failed) from ``terraform test`` output such as ``Success! 4 passed, 0 failed.``."""
    match = re.search(r"(\d+) passed, (\d+) failed", output)
    if match is None:
        raise ValueError(f"no test summary in terraform output:\n{output[-2000:]}")
    return int(match.group(1)), int(match.group(2))


@dataclass
class Terraform:
    """One working directory (a root module) and the environment its commands run with."""

    workdir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    cli_config: Path | None = None
    timeout_seconds: float = 900.0
    # Concurrent resource operations; above Terraform's default of 10 because emulators answer
    # at once and most of an apply is the provider's own waiting.
    parallelism: int = 30

    def __post_init__(self) -> None:
        self.binary = find_terraform()
        if self.cli_config is None:
            self.cli_config = write_cli_config(self.workdir / ".tfcli", find_provider_mirror())

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(self.cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            **self.env,
        }

    def run(
        self, *args: str, ok_codes: Iterable[int] = (0,), stdin_text: str = ""
    ) -> subprocess.CompletedProcess[str]:
        """Run ``terraform ARGS`` in the working directory; never inherits stdin (it would block)."""
        completed = subprocess.run(  # noqa: S603 (argv built from fixed subcommands and our paths)
            [self.binary, *args],
            cwd=self.workdir,
            env=self.environment(),
            input=stdin_text,
            capture_output=True,
            text=True,
            timeout=self.timeout_seconds,
            check=False,
        )
        if completed.returncode not in set(ok_codes):
            raise TerraformError(args, completed.returncode, completed.stdout, completed.stderr)
        return completed

    def write_variables(self, variables: Mapping[str, Any]) -> Path:
        """Variables for every later plan/apply/destroy (a file, so secrets stay off command lines)."""
        path = self.workdir / "terraform.tfvars.json"
        path.write_text(json.dumps(dict(variables), indent=2, sort_keys=True))
        path.chmod(0o600)
        return path

    def init(self) -> subprocess.CompletedProcess[str]:
        return self.run("init", "-input=false", "-no-color")

    def validate(self) -> subprocess.CompletedProcess[str]:
        return self.run("validate", "-no-color")

    def apply(self) -> subprocess.CompletedProcess[str]:
        args = ("apply", "-auto-approve", "-input=false", "-no-color", f"-parallelism={self.parallelism}")
        try:
            return self.run(*args)
        except TerraformError as error:
            # moto, under many parallel EC2 writes, now and then loses a new security group's default
            # egress rule, and the provider's revoke of it fails; the group is tainted, and a second
            # apply replaces it. Any other failure is final.
            if MOTO_LOST_EGRESS_RULE not in error.stderr:
                raise
            return self.run(*args)

    def plan_exit_code(self) -> tuple[int, str]:
        """``plan -detailed-exitcode``: 0 no changes, 2 changes (errors raise)."""
        completed = self.run(
            "plan",
            "-detailed-exitcode",
            "-input=false",
            "-no-color",
            f"-parallelism={self.parallelism}",
            ok_codes=(0, 2),
        )
        return completed.returncode, completed.stdout

    def destroy(self, *, refresh: bool = True) -> subprocess.CompletedProcess[str]:
        """Destroy everything; ``refresh=False`` trusts the state (e.g. right after a clean plan)."""
        return self.run(
            "destroy",
            "-auto-approve",
            "-input=false",
            "-no-color",
            f"-parallelism={self.parallelism}",
            f"-refresh={str(refresh).lower()}",
        )

    def outputs(self) -> dict[str, Any]:
        """``output -json`` as {name: value} (sensitive outputs included: the caller owns the state)."""
        raw = json.loads(self.run("output", "-json").stdout)
        return {name: item["value"] for name, item in raw.items()}

    def show_state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(self.run("show", "-json").stdout)
        return state

    def test(self, test_directory: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run("test", f"-test-directory={test_directory}", "-no-color", *extra, ok_codes=(0, 1))
