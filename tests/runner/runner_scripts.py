"""Helpers for the runner/ script tests: run a script with a clean environment, poll with a deadline."""

import os
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

RUNNER_DIR = Path(__file__).resolve().parents[2] / "runner"
BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


def run_script(
    name: str, env: Mapping[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs runner/<name> with exactly BASE_ENV plus ``env`` (nothing leaks from the test process)."""
    return subprocess.run(
        [str(RUNNER_DIR / name), *args],
        env={**BASE_ENV, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)
