"""Where a command's settings come from: flags > ``--terraform-dir`` outputs > environment.

The region likewise: ``--region`` > the outputs' region > ``AWS_REGION`` > ``AWS_DEFAULT_REGION`` >
the profile's ``region``.

With ``--terraform-dir`` the settings are the module's ``cli_environment`` output (the Lambdas'
environment, no secrets); otherwise the process environment, as in the original tool. Commands
that only read (``runners list``, ``classes list``) need just ``RUNNER_TABLE`` or
``CLASS_SIZES_PARAM``; commands that act need the whole deployment and name what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecsrunner_core.settings import Settings

from .failures import CliError, Where
from .terraform_outputs import environment_from_outputs, read_outputs

# Harmless stand-ins for settings a read-only command never uses.
_PLACEHOLDERS = {
    "ECSRUNNER_NAME": "ecsrunner",
    "RUNNER_TABLE": "unused-runner-table",
    "CLASS_SIZES_PARAM": "/unused/class-sizes",
}
_PLACEHOLDER_REPO = "placeholder/placeholder"
# As the AWS CLI v2 reads them; boto3 alone reads only AWS_DEFAULT_REGION.
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def environment_region(environ: Mapping[str, str]) -> str | None:
    """The region the environment names, or None (then boto3 asks the profile's configuration)."""
    return next((environ[name].strip() for name in REGION_VARIABLES if environ.get(name, "").strip()), None)


@dataclass(frozen=True)
class Configuration:
    values: Mapping[str, str]
    source: str = "environment"
    region: str | None = None
    profile: str | None = None
    outputs: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def resolve(
        cls,
        environ: Mapping[str, str],
        *,
        terraform_dir: str | None = None,
        region: str | None = None,
        profile: str | None = None,
    ) -> Configuration:
        if not terraform_dir:
            return cls(dict(environ), "environment", region or environment_region(environ), profile or None)
        directory = Path(terraform_dir)
        outputs = read_outputs(directory)
        values = environment_from_outputs(outputs)
        output_region = outputs.get("region") or values.get("AWS_REGION")
        return cls(
            values,
            f"the Terraform outputs in {directory}",
            region or (str(output_region) if output_region else None) or environment_region(environ),
            profile or None,
            outputs,
        )

    def value(self, key: str) -> str:
        return self.values.get(key, "").strip()

    def where(self, settings: Settings | None = None) -> Where:
        return Where(
            table=settings.runner_table if settings else self.value("RUNNER_TABLE"),
            parameter=settings.class_sizes_param if settings else self.value("CLASS_SIZES_PARAM"),
            region=self.region or "",
            source=self.source,
        )

    def _require(self, command: str, needs: Sequence[str]) -> None:
        missing = [key for key in needs if not self.value(key)]
        if not missing:
            return
        names = ", ".join(missing)
        if self.source == "environment":
            raise CliError(f"{command} needs {names}: set it in the environment or pass --terraform-dir DIR")
        raise CliError(f"{command} needs {names}, which {self.source} do not provide (cli_environment)")

    def read_only_settings(self, command: str, needs: Sequence[str]) -> Settings:
        """Settings for a command that reads ``needs`` only; the rest are placeholders."""
        self._require(command, needs)
        values = dict(self.values)
        for key, placeholder in _PLACEHOLDERS.items():
            if not self.value(key):
                values[key] = placeholder
        if not self.value("GITHUB_REPO") and not self.value("GITHUB_ORG"):
            values["GITHUB_REPO"] = _PLACEHOLDER_REPO
        return Settings.from_env(values)

    def deployment_settings(self, command: str, needs: Sequence[str] = ()) -> Settings:
        """The full settings of the deployment, as the Lambdas read them, plus ``needs``."""
        settings = Settings.from_env(self.values)
        self._require(command, needs)
        return settings
