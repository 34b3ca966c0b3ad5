"""The sandbox's servers and deployment: a moto server, the GitHub stand-in, ``examples/sandbox`` applied.

Secrets (the webhook secret, the stand-in's PAT) are made fresh for every run, handed to
Terraform in a variables file only the owner can read, and never printed.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from .github_standin import GitHubStandIn
from .moto_server import MotoServer, start_moto_server
from .terraform import REPO_ROOT, Terraform, TerraformError, stage_configuration

SANDBOX = Path("examples") / "sandbox"
REPOSITORY = "octo-org/octo-repo"
ARTEFACTS = (REPO_ROOT / "dist" / "lambda.zip", REPO_ROOT / "dist" / "runner-context.zip")


class MissingArtefact(RuntimeError):
    """``make build`` has not been run."""


def check_artefacts() -> None:
    missing = [str(path.relative_to(REPO_ROOT)) for path in ARTEFACTS if not path.is_file()]
    if missing:
        raise MissingArtefact(f"{', '.join(missing)} not found: run `make build` first (or `make demo`)")


@dataclass
class SandboxStack:
    run_dir: Path
    moto: MotoServer | None = None
    standin: GitHubStandIn | None = None
    terraform: Terraform | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    applied: bool = False
    staged_root: Path | None = None
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _pat: str = field(default_factory=lambda: "ghp_" + secrets.token_urlsafe(27), repr=False)
    _webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    def start_moto(self) -> MotoServer:
        self.moto = start_moto_server(log_dir=self.run_dir / "logs")
        return self.moto

    def start_github(self) -> GitHubStandIn:
        self.standin = GitHubStandIn(pat=self._pat)
        self.standin.start()
        return self.standin

    def prepare_terraform(self) -> Terraform:
        assert self.moto is not None and self.standin is not None
        staged = stage_configuration(self.run_dir / "terraform")
        self.staged_root = staged
        terraform = Terraform(staged / SANDBOX)
        terraform.write_variables(
            {
                "aws_endpoint_url": self.moto.endpoint_url,
                "region": self.moto.region,
                "github_repo": REPOSITORY,
                "github_api_url": self.standin.api_url,
                "github_pat": self._pat,
                "webhook_secret": self._webhook_secret,
            }
        )
        self.terraform = terraform
        terraform.init()
        return terraform

    def apply(self) -> dict[str, Any]:
        assert self.terraform is not None
        self.applied = True  # a failed apply may have created resources: destroy them too
        try:
            done = self.terraform.apply()
        except TerraformError as exc:
            self._log("terraform-apply.log", exc.stdout + exc.stderr)
            raise
        self._log("terraform-apply.log", done.stdout)
        self.outputs = self.terraform.outputs()
        return self.outputs

    def destroy(self) -> None:
        if self.terraform is not None and self.applied and self.moto_alive():
            try:
                done = self.terraform.destroy()
            except TerraformError as exc:
                self._log("terraform-destroy.log", exc.stdout + exc.stderr)
                raise
            self._log("terraform-destroy.log", done.stdout)
            self.applied = False

    def _log(self, name: str, text: str) -> None:
        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        (self.run_dir / "logs" / name).write_text(text)

    def moto_alive(self, grace_seconds: float = 0.0) -> bool:
        """Is the server up? After a Ctrl-C, which the terminal sends to the server too, give it
        ``grace_seconds`` to finish exiting rather than destroy against a dying server."""
        if self.moto is None or self.moto.process.poll() is not None:
            return False
        if grace_seconds > 0:
            try:
                self.moto.process.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                return True
            return False
        return True

    def session(self) -> boto3.Session:
        assert self.moto is not None
        env = self.moto.client_environment()
        return boto3.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.moto.region,
        )

    def client(self, service: str) -> Any:
        """One client per service (creating one costs a few hundred ms of botocore loading)."""
        assert self.moto is not None
        if service not in self._clients:
            session = self._clients.setdefault("", self.session())
            self._clients[service] = session.client(service, endpoint_url=self.moto.endpoint_url)
        return self._clients[service]

    def staged_artefact(self, name: str) -> Path:
        """The copy of ``dist/<name>`` Terraform deployed (dist/ may be rebuilt meanwhile)."""
        assert self.staged_root is not None
        return self.staged_root / "dist" / name

    def deployed_webhook_secret(self) -> str:
        """The secret as deployed (Secrets Manager), which GitHub, played by the demo, signs with."""
        arn = self.outputs["webhook_secret_arn"]
        value = str(self.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
        if value != self._webhook_secret:
            raise RuntimeError("the deployed webhook secret is not the one given to Terraform")
        return value

    def cli_environment(self) -> dict[str, str]:
        """What the operator CLI needs to reach this deployment (the AWS side; no secrets)."""
        assert self.moto is not None
        values = {str(k): str(v) for k, v in (self.outputs.get("cli_environment") or {}).items()}
        return {**values, **self.moto.client_environment()}

    def stop(self) -> None:
        if self.standin is not None:
            self.standin.stop()
        if self.moto is not None:
            self.moto.stop()

    def describe_keep(self) -> list[str]:
        assert self.moto is not None and self.terraform is not None
        directory = self.terraform.workdir
        return [
            f"moto server (pid {self.moto.process.pid}) still serves {self.moto.endpoint_url}",
            f"explore: AWS_ENDPOINT_URL={self.moto.endpoint_url} AWS_ACCESS_KEY_ID=test "
            f"AWS_SECRET_ACCESS_KEY=test python -m ecsrunner runners list --terraform-dir {directory}",
            f"clean up: TF_CLI_CONFIG_FILE={self.terraform.cli_config} terraform -chdir={directory} destroy "
            f"-auto-approve && kill {self.moto.process.pid}",
        ]


def json_outputs_for_log(outputs: dict[str, Any]) -> str:
    """Outputs without the long policy document, for the run directory."""
    return json.dumps(
        {k: v for k, v in outputs.items() if k != "kms_key_policy_json"}, indent=2, sort_keys=True
    )
