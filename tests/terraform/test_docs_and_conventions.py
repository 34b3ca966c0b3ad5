"""Static checks of the Terraform sources: generated docs, module conventions, sandbox outputs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULES = [REPO_ROOT, *sorted((REPO_ROOT / "modules").iterdir())]
EXAMPLES = sorted((REPO_ROOT / "examples").iterdir())
PROVIDER_CONSTRAINT = 'version = ">= 5.100, < 7.0"'


def test_generated_docs_are_up_to_date() -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "tf_docs.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_docs_tables_list_every_variable_and_output(tf_docs: ModuleType) -> None:
    document = (REPO_ROOT / "README.md").read_text()
    variables = [block.name for block in tf_docs.module_blocks(REPO_ROOT, "variable")]
    outputs = [block.name for block in tf_docs.module_blocks(REPO_ROOT, "output")]

    assert len(variables) > 40 and len(outputs) > 20
    for name in variables + outputs:
        assert f"| `{name}` |" in document


def test_docs_check_detects_a_stale_table(tf_docs: ModuleType) -> None:
    current, wanted = tf_docs.rendered_documents(REPO_ROOT)[Path("README.md")]
    stale = current.replace("| `webhook_url` |", "| `webhook_address` |")

    assert tf_docs.render(stale, {"OUTPUTS": tf_docs.outputs_table(REPO_ROOT)}) == wanted


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_modules_follow_the_layout_and_describe_every_input(module: Path, tf_docs: ModuleType) -> None:
    for required in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
        assert (module / required).is_file(), f"{module.name}: {required} missing"
    assert module == REPO_ROOT or (module / "README.md").is_file()
    assert PROVIDER_CONSTRAINT in (module / "versions.tf").read_text()
    for block in tf_docs.module_blocks(module, "variable"):
        assert block.string("description"), f"{module.name}: variable {block.name} has no description"
        assert "type" in block.arguments, f"{module.name}: variable {block.name} has no type"
    for block in tf_docs.module_blocks(module, "output"):
        assert block.string("description"), f"{module.name}: output {block.name} has no description"


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_every_taggable_resource_gets_the_tags(module: Path) -> None:
    untagged_types = {
        "aws_cloudwatch_event_target", "aws_ecs_cluster_capacity_providers", "aws_ecr_lifecycle_policy",
        "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_kms_alias", "aws_lambda_permission",
        "aws_lambda_function_event_invoke_config", "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_public_access_block", "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_policy", "aws_s3_bucket_versioning",
        "aws_secretsmanager_secret_version", "aws_apigatewayv2_integration", "aws_apigatewayv2_route",
        "aws_cloudwatch_dashboard",  # the provider has no tags argument for dashboards
    }  # fmt: skip
    for path in module.glob("*.tf"):
        for match in re.finditer(r'^resource "(\w+)" "(\w+)" \{\n(.*?)^\}', path.read_text(), re.M | re.S):
            if match.group(1) not in untagged_types:
                assert re.search(r"^  tags\s+= (var|local)\.tags$", match.group(3), re.M), (
                    f"{path.name}: {match.group(1)}.{match.group(2)} does not merge the tags"
                )


def test_sandbox_passes_every_root_output_through(tf_docs: ModuleType) -> None:
    root_outputs = {block.name for block in tf_docs.module_blocks(REPO_ROOT, "output")}
    sandbox = {
        block.name: block.arguments["value"]
        for block in tf_docs.module_blocks(REPO_ROOT / "examples/sandbox", "output")
    }

    for name in root_outputs:
        assert sandbox.get(name) == f"module.ecsrunner.{name}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_examples_use_the_root_module_and_have_a_readme(example: Path) -> None:
    assert 'source = "../.."' in (example / "main.tf").read_text()
    assert (example / "README.md").is_file()
    assert PROVIDER_CONSTRAINT in (example / "versions.tf").read_text()


def test_no_machine_path_or_extra_provider_in_the_configuration() -> None:
    sources = [path for folder in (REPO_ROOT, *MODULES[1:], *EXAMPLES) for path in folder.glob("*.tf")]
    text = "\n".join(path.read_text() for path in sources)

    assert "/opt/" not in text and "/tmp/" not in text and "/work/" not in text
    assert set(re.findall(r'source\s+= "hashicorp/(\w+)"', text)) == {"aws"}
    assert not re.search(r'^(resource|data) "(archive|null|random|tls|local|external)_', text, re.M)
