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
    for configuration in (".", "modules/ecs-fleet", "modules/control-plane", "modules/image-build"):
        assert f"ok   validate {configuration} (" in output
    for example in ("complete", "minimal", "sandbox"):
        assert f"ok   validate examples/{example} (" in output
    assert "ok   fmt -check -recursive" in output
    assert output.rstrip().endswith("terraform_check: 8 passed, 0 failed")
