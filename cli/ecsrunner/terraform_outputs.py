"""``terraform output -json`` of a deployment, and the environment it describes."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .failures import CliError

TIMEOUT_SECONDS = 120.0

# Individual outputs that name a setting, used when `cli_environment` lacks the variable.
OUTPUT_VARIABLES = {
    "runner_table_name": "RUNNER_TABLE",
    "class_sizes_parameter_name": "CLASS_SIZES_PARAM",
    "cluster_arn": "ECS_CLUSTER_ARN",
    "ecr_repository_url": "ECR_REPOSITORY_URL",
    "jit_bucket_name": "JIT_BUCKET",
    "codebuild_project_name": "CODEBUILD_PROJECT_NAME",
    "webhook_secret_arn": "WEBHOOK_SECRET_ARN",
    "github_credentials_secret_arn": "GITHUB_CREDENTIALS_SECRET_ARN",
}


def read_outputs(directory: Path) -> dict[str, Any]:
    """The value of every output of the Terraform state in ``directory``."""
    if not directory.is_dir():
        raise CliError(f"--terraform-dir {directory}: no such directory")
    terraform = shutil.which("terraform")
    if terraform is None:
        raise CliError("terraform not found on PATH: install Terraform, or set RUNNER_TABLE etc. instead")
    try:
        done = subprocess.run(  # noqa: S603 (fixed argv: the terraform binary found on PATH)
            [terraform, f"-chdir={directory}", "output", "-json"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CliError(f"terraform output in {directory} failed: {exc}") from None
    if done.returncode != 0:
        reason = next((line.strip() for line in done.stderr.splitlines() if line.strip()), "no message")
        raise CliError(f"terraform output in {directory} failed (exit {done.returncode}): {reason}")
    try:
        document = json.loads(done.stdout or "{}")
    except ValueError:
        raise CliError(f"terraform output -json in {directory} did not print JSON") from None
    if not isinstance(document, Mapping):
        raise CliError(f"terraform output -json in {directory} did not print a JSON object")
    if not document:
        raise CliError(f"no Terraform outputs in {directory}: run terraform apply there first")
    return {
        name: entry.get("value") if isinstance(entry, Mapping) else None for name, entry in document.items()
    }


def environment_from_outputs(outputs: Mapping[str, Any]) -> dict[str, str]:
    """The settings variables: `cli_environment`, completed from the individual outputs."""
    values: dict[str, str] = {}
    for output, variable in OUTPUT_VARIABLES.items():
        text = _text(outputs.get(output))
        if text:
            values[variable] = text
    cli_environment = outputs.get("cli_environment")
    if isinstance(cli_environment, Mapping):
        for key, value in cli_environment.items():
            text = _text(value)
            if text is not None:
                values[str(key)] = text
    return values


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)
