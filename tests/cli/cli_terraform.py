"""A stand-in `terraform` on PATH that prints recorded `terraform output -json` (a real subprocess)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from ecsrunner_sandbox.provision import Deployment

from tests.cli.conftest import settings_environment

WEBHOOK_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/webhook"

FAKE_TERRAFORM = """#!/bin/sh
# Stands in for `terraform output -json`: checks its arguments, prints the recorded outputs.
if [ "$1" != "-chdir=$EXPECTED_CHDIR" ] || [ "$2" != "output" ] || [ "$3" != "-json" ]; then
  echo "unexpected arguments: $*" >&2
  exit 3
fi
if [ -n "$TERRAFORM_FAIL" ]; then
  printf 'Error: %s\\n\\nmore detail\\n' "$TERRAFORM_FAIL" >&2
  exit 1
fi
cat "$(dirname "$0")/outputs.json"
"""


def terraform_outputs(deployment: Deployment, **extra: object) -> dict[str, object]:
    settings = deployment.settings
    values: dict[str, object] = {
        "runner_table_name": settings.runner_table,
        "class_sizes_parameter_name": settings.class_sizes_param,
        "cluster_arn": settings.cluster_arn,
        "ecr_repository_url": settings.ecr_repository_url,
        "webhook_url": WEBHOOK_URL,
        "cli_environment": settings_environment(settings),
        **extra,
    }
    return {name: {"sensitive": False, "type": "string", "value": value} for name, value in values.items()}


def install_fake_terraform(
    tmp_path: Path, env: pytest.MonkeyPatch
) -> tuple[Path, Callable[[dict[str, object]], None]]:
    """A `terraform` executable first on PATH; returns (state directory, write outputs)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "terraform"
    script.write_text(FAKE_TERRAFORM)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    state = tmp_path / "deployment"
    state.mkdir()
    env.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    env.setenv("EXPECTED_CHDIR", str(state))

    def write(outputs: dict[str, object]) -> None:
        (bin_dir / "outputs.json").write_text(json.dumps(outputs))

    return state, write
