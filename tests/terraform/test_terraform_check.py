"""scripts/terraform_check.py: fmt -check, then init + validate everywhere, offline via the mirror."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_configuration_is_formatted_and_valid() -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "terraform_check.py")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = completed.stdout + completed.stderr

    assert completed.returncode == 0, output
    modules = sorted(f"modules/{path.name}" for path in (REPO_ROOT / "modules").iterdir() if path.is_dir())
    examples = sorted(f"examples/{path.name}" for path in (REPO_ROOT / "examples").iterdir() if path.is_dir())
    assert "modules/monitoring" in modules
    for configuration in (".", *modules, *examples):
        assert f"ok   validate {configuration} (" in output
    assert "ok   fmt -check -recursive" in output
    checks = 1 + 1 + len(modules) + len(examples)  # fmt, the root module, each module and example
    assert output.rstrip().endswith(f"terraform_check: {checks} passed, 0 failed")
