"""hadolint on the runner Dockerfile and shellcheck on every runner script (binaries from the venv)."""

import subprocess
import sys
from pathlib import Path

from runner_scripts import RUNNER_DIR

VENV_BIN = Path(sys.executable).parent
EXPECTED_SCRIPTS = {
    "entrypoint.sh",
    "image-conventions.sh",
    "install-deps.sh",
    "install-runner.sh",
    "lsb-release-shim.sh",
    "soci-index.sh",
    "validate-build-env.sh",
}


def run_linter(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_dockerfile_is_hadolint_clean():
    result = run_linter(str(VENV_BIN / "hadolint"), str(RUNNER_DIR / "Dockerfile"))

    assert result.returncode == 0, result.stdout + result.stderr


def test_scripts_are_shellcheck_clean():
    scripts = sorted(RUNNER_DIR.glob("*.sh"))
    assert {script.name for script in scripts} >= EXPECTED_SCRIPTS

    result = run_linter(str(VENV_BIN / "shellcheck"), *map(str, scripts))

    assert result.returncode == 0, result.stdout + result.stderr


def test_scripts_are_executable():
    assert all(script.stat().st_mode & 0o111 for script in RUNNER_DIR.glob("*.sh"))
