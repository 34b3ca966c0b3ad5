"""The `terraform test` suites in this directory (*.tftest.hcl), run offline with a mocked provider,
and the wording of the input validation errors a user sees."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ecsrunner_sandbox.terraform import Terraform, parse_test_summary, stage_configuration

pytestmark = pytest.mark.e2e

TEST_DIR = Path(__file__).resolve().parent
PAT = "ghp_test_token_value"
WEBHOOK_SECRET = "test-webhook-secret-0123456789"
VALID_INPUTS: dict[str, object] = {
    "github_repo": "octo-org/octo-repo",
    "github_pat": PAT,
    "webhook_secret": WEBHOOK_SECRET,
    "subnet_ids": ["subnet-0123456789abcdef0"],
    "security_groups": ["sg-0123456789abcdef0"],
}


@pytest.fixture(scope="module")
def root_module(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    terraform = Terraform(stage_configuration(tmp_path_factory.mktemp("configuration")))
    terraform.init()
    return terraform


def test_terraform_test_suites_pass(root_module: Terraform) -> None:
    run_blocks = sum(
        len(re.findall(r'^run "', path.read_text(), re.M)) for path in TEST_DIR.glob("*.tftest.hcl")
    )

    completed = root_module.test("tests/terraform")
    passed, failed = parse_test_summary(completed.stdout)
    print(f"terraform test: {passed} passed, {failed} failed")

    assert (completed.returncode, failed) == (0, 0), completed.stdout[-8000:] + completed.stderr[-4000:]
    assert passed == run_blocks, f"{run_blocks - passed} run blocks were skipped:\n{completed.stdout[-4000:]}"


def console(terraform: Terraform, variables_file: Path, variables: dict[str, object]) -> str:
    """Evaluate the configuration with these inputs (offline: no provider is called); all output."""
    # One value per line: diagnostics quote the offending line of the file, and only that one.
    variables_file.write_text(json.dumps(variables, indent=2))
    completed = terraform.run(
        "console", "-no-color", f"-var-file={variables_file}", ok_codes=(0, 1), stdin_text="1\n"
    )
    return " ".join((completed.stdout + completed.stderr).split())


def test_invalid_inputs_are_refused_with_a_message_that_says_what_to_do(
    root_module: Terraform, tmp_path: Path
) -> None:
    invalid = {
        **VALID_INPUTS,
        "name": "My_Runners",
        "github_org": "octo-org",
        "runner_class_sizes": {"tiny": {"cpu": 1024, "memory": 1024}},
        "default_class": "tiny",
        "runner_ttl_seconds": 30,
        "lambda_architecture": "aarch64",
    }

    messages = console(root_module, tmp_path / "invalid.tfvars.json", invalid)

    assert "name must be 1-36 characters of lowercase letters, digits and '-'" in messages
    assert 'Set exactly one of github_repo ("owner/repo") and github_org ("my-org").' in messages
    assert "Class memory (MiB) must be valid for its cpu on Fargate" in messages
    assert "Invalid: tiny (cpu 1024, memory 1024)." in messages
    assert "runner_ttl_seconds must be between 60 (1 minute) and 435600 (5 days + 1 hour)." in messages
    assert "lambda_architecture must be x86_64 or arm64." in messages
    assert messages.count("Error: Invalid value for variable") == 5
    assert PAT not in messages and WEBHOOK_SECRET not in messages


def test_valid_inputs_pass_every_validation(root_module: Terraform, tmp_path: Path) -> None:
    messages = console(root_module, tmp_path / "valid.tfvars.json", VALID_INPUTS)

    assert "Error" not in messages, messages
