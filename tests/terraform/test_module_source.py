"""The module consumed the way an outside configuration does: from a git source, with the release
artefacts of `make dist` passed by path, planned against a moto server.

A git source (like a registry one) holds the repository's files only: no dist/. The test snapshots
the working tree (the files git would commit) into a temporary repository with one commit, writes
a consumer configuration outside the repository with ``source = "git::file://...?ref=<commit>"``,
initialises it through the provider mirror (providers only; the module comes from git), and plans it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ecsrunner_sandbox.moto_server import MotoServer, moto_server
from ecsrunner_sandbox.terraform import Terraform, TerraformError

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
LAMBDA_ZIP = f"ecsrunner-{VERSION}-lambda-python3.13-x86_64.zip"
CONTEXT_ZIP = f"ecsrunner-{VERSION}-runner-context.zip"
CONTROL_PLANE = 'module.ecsrunner.module.control_plane.aws_lambda_function.this["control_plane"]'
CONTEXT_OBJECT = "module.ecsrunner.module.image_build[0].aws_s3_object.context"

CONSUMER = """
terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }}
  }}
}}

provider "aws" {{
  region = "us-east-1"
}}

module "ecsrunner" {{
  source = "{source}"

  github_repo     = "octo-org/octo-repo"
  github_pat      = "ghp_consumer_test_token"
  webhook_secret  = "consumer-test-webhook-secret-0123"
  subnet_ids      = ["subnet-0123456789abcdef0"]
  security_groups = ["sg-0123456789abcdef0"]
{artefacts}}}
"""
RELEASE_ARTEFACTS = f"""
  lambda_zip_path         = "${{path.root}}/artefacts/{LAMBDA_ZIP}"
  runner_context_zip_path = "${{path.root}}/artefacts/{CONTEXT_ZIP}"
"""


@dataclass(frozen=True)
class Consumer:
    terraform: Terraform
    source: str
    release: Path

    def write(self, artefacts: str) -> None:
        text = CONSUMER.format(source=self.source, artefacts=artefacts)
        (self.terraform.workdir / "main.tf").write_text(text.lstrip())


def git(*args: str, cwd: Path) -> str:
    environment = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "ecsrunner tests",
        "GIT_AUTHOR_EMAIL": "tests@example.invalid",
        "GIT_COMMITTER_NAME": "ecsrunner tests",
        "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    }
    completed = subprocess.run(
        ["git", *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120, check=True
    )
    return completed.stdout


def snapshot_repository(destination: Path) -> str:
    """The working tree as git would commit it (tracked and untracked files, nothing ignored, so no
    dist/) in a new repository with one commit; returns that commit."""
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO_ROOT)
    destination.mkdir(parents=True)
    for relative in filter(None, listed.split("\0")):
        source = REPO_ROOT / relative
        if source.is_file():
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
    git("init", "--quiet", "--initial-branch=main", cwd=destination)
    git("add", "--all", cwd=destination)
    git("commit", "--quiet", "--no-gpg-sign", "--message", "snapshot of the working tree", cwd=destination)
    return git("rev-parse", "HEAD", cwd=destination).strip()


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make dist`'s build, into a scratch directory."""
    out_dir = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "build_artifacts.py"),
            "--out-dir",
            str(out_dir),
            "--release",
        ],
        check=True,
        timeout=900,
    )
    return out_dir / f"ecsrunner-{VERSION}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with moto_server(log_dir=tmp_path_factory.mktemp("moto")) as running:
        yield running


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory, release: Path, server: MotoServer) -> Consumer:
    repository = tmp_path_factory.mktemp("upstream") / "ecsrunner"
    commit = snapshot_repository(repository)
    workdir = tmp_path_factory.mktemp("consumer")
    (workdir / "artefacts").mkdir()
    for name in (LAMBDA_ZIP, CONTEXT_ZIP):
        shutil.copy2(release / name, workdir / "artefacts" / name)
    made = Consumer(
        Terraform(workdir, env=server.client_environment()), f"git::file://{repository}?ref={commit}", release
    )
    made.write(RELEASE_ARTEFACTS)
    made.terraform.init()
    return made


def plan(consumer: Consumer) -> dict[str, Any]:
    consumer.terraform.run("plan", "-input=false", "-no-color", "-out=consumer.tfplan")
    shown: dict[str, Any] = json.loads(consumer.terraform.run("show", "-json", "consumer.tfplan").stdout)
    return {change["address"]: change["change"]["after"] for change in shown["resource_changes"]}


def failed_plan(consumer: Consumer) -> str:
    with pytest.raises(TerraformError) as caught:
        consumer.terraform.run("plan", "-input=false", "-no-color")
    return " ".join((caught.value.stdout + caught.value.stderr).split())


def test_make_dist_writes_versioned_artefacts_with_a_manifest_and_checksums(release: Path) -> None:
    manifest = json.loads((release / "manifest.json").read_text())
    sums = dict(reversed(line.split("  ")) for line in (release / "SHA256SUMS").read_text().splitlines())

    assert sorted(path.name for path in release.iterdir()) == sorted(
        [LAMBDA_ZIP, CONTEXT_ZIP, "manifest.json", "SHA256SUMS"]
    )
    for name in (LAMBDA_ZIP, CONTEXT_ZIP):
        digest = hashlib.sha256((release / name).read_bytes()).hexdigest()
        assert manifest[name]["sha256"] == sums[name] == digest
        assert manifest[name]["version"] == VERSION
    assert (manifest[LAMBDA_ZIP]["runtime"], manifest[LAMBDA_ZIP]["arch"]) == ("python3.13", "x86_64")
    assert (release.parent / "lambda.zip").read_bytes() == (release / LAMBDA_ZIP).read_bytes()


def test_a_git_source_plans_with_the_release_artefacts_passed_by_path(consumer: Consumer) -> None:
    installed = json.loads(
        (consumer.terraform.workdir / ".terraform" / "modules" / "modules.json").read_text()
    )
    (module,) = [entry for entry in installed["Modules"] if entry["Key"] == "ecsrunner"]
    module_dir = consumer.terraform.workdir / module["Dir"]
    lambda_zip = (consumer.terraform.workdir / "artefacts" / LAMBDA_ZIP).read_bytes()
    context_zip = (consumer.terraform.workdir / "artefacts" / CONTEXT_ZIP).read_bytes()

    planned = plan(consumer)

    assert module["Source"] == consumer.source
    assert (module_dir / "main.tf").is_file() and not (module_dir / "dist").exists()
    function = planned[CONTROL_PLANE]
    assert function["filename"].endswith(f"artefacts/{LAMBDA_ZIP}")
    assert function["source_code_hash"] == base64.b64encode(hashlib.sha256(lambda_zip).digest()).decode()
    assert planned[CONTEXT_OBJECT]["source"].endswith(f"artefacts/{CONTEXT_ZIP}")
    assert planned[CONTEXT_OBJECT]["source_hash"] == hashlib.md5(context_zip).hexdigest()
    assert "module.ecsrunner.module.monitoring.aws_cloudwatch_dashboard.this[0]" in planned


def test_without_the_artefacts_the_plan_says_which_variables_to_set(consumer: Consumer) -> None:
    consumer.write("")
    try:
        messages = failed_plan(consumer)
    finally:
        consumer.write(RELEASE_ARTEFACTS)

    assert messages.count("Resource precondition failed") == 2, messages
    assert "No Lambda package at .terraform/modules/ecsrunner/dist/lambda.zip" in messages
    assert "set lambda_zip_path to the release's ecsrunner-<version>-lambda-python3.13-x86_64.zip" in messages
    assert "No runner build context at .terraform/modules/ecsrunner/dist/runner-context.zip" in messages
    assert "set runner_context_zip_path to the release's ecsrunner-<version>-runner-context.zip" in messages
    assert "`make dist` in an ecsrunner checkout builds it" in messages


def test_a_path_to_a_missing_file_is_refused_at_plan_time(consumer: Consumer) -> None:
    consumer.write(RELEASE_ARTEFACTS.replace(LAMBDA_ZIP, "ecsrunner-lambda-typo.zip"))
    try:
        messages = failed_plan(consumer)
    finally:
        consumer.write(RELEASE_ARTEFACTS)

    assert "Invalid value for variable" in messages
    assert "lambda_zip_path: no file at ./artefacts/ecsrunner-lambda-typo.zip" in messages
    assert "runner_context_zip_path" not in messages
