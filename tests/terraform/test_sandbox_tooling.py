"""devtools/ecsrunner_sandbox: the Terraform runner helpers and the moto server launcher."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from ecsrunner_sandbox import terraform as tf
from ecsrunner_sandbox.moto_server import MotoServer, moto_server

# boto3's stubs type client() per literal service name; these tests pass names as variables.
CLIENT_FACTORY: Callable[..., Any] = boto3.client
TLS_ONLY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::jit-bucket", "arn:aws:s3:::jit-bucket/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def test_cli_config_uses_only_the_mirror_when_there_is_one(tmp_path: Path) -> None:
    text = tf.write_cli_config(tmp_path, Path("/srv/mirror")).read_text()

    assert 'filesystem_mirror {\n    path = "/srv/mirror"' in text
    assert "direct" not in text and "plugin_cache_dir" not in text


def test_cli_config_without_a_mirror_uses_the_registry_with_a_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    text = tf.write_cli_config(tmp_path / "cli", None).read_text()

    assert "provider_installation" not in text
    assert f'plugin_cache_dir = "{tmp_path}/cache/ecsrunner/terraform-plugins"' in text
    assert (tmp_path / "cache" / "ecsrunner" / "terraform-plugins").is_dir()


def test_mirror_search_finds_the_shallowest_registry_directory_within_its_depth(tmp_path: Path) -> None:
    (tmp_path / "a" / "plugins" / "registry.terraform.io").mkdir(parents=True)
    (tmp_path / "b" / "c" / "d" / "e" / "registry.terraform.io").mkdir(parents=True)

    assert tf._search_mirror(tmp_path, 3) == tmp_path / "a" / "plugins"
    assert tf._search_mirror(tmp_path / "b", 3) is None


def test_mirror_override_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "registry.terraform.io").mkdir()
    monkeypatch.setenv(tf.MIRROR_ENV, str(tmp_path))
    tf.find_provider_mirror.cache_clear()
    try:
        assert tf.find_provider_mirror() == tmp_path
    finally:
        tf.find_provider_mirror.cache_clear()


def test_staging_copies_configuration_but_no_state_and_fills_missing_artefacts(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for relative in ("main.tf", "modules/m/main.tf", "examples/e/main.tf", "tests/terraform/x.tftest.hcl"):
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        (repo / relative).write_text("# " + relative)
    (repo / "examples/e/terraform.tfstate").write_text("{}")
    (repo / "examples/e/.terraform/providers").mkdir(parents=True)
    (repo / "tests/terraform/test_x.py").write_text("")

    first = tf.stage_configuration(tmp_path / "first", repo_root=repo)
    second = tf.stage_configuration(tmp_path / "second", repo_root=repo)

    staged = sorted(str(path.relative_to(first)) for path in first.rglob("*") if path.is_file())
    assert staged == [
        "dist/lambda.zip",
        "dist/runner-context.zip",
        "examples/e/main.tf",
        "main.tf",
        "modules/m/main.tf",
        "tests/terraform/x.tftest.hcl",
    ]
    assert (first / "dist/lambda.zip").read_bytes() == (second / "dist/lambda.zip").read_bytes()


def test_test_summary_is_parsed_from_terraform_output() -> None:
    assert tf.parse_test_summary("...\nFailure! 9 passed, 1 failed, 3 skipped.\n") == (9, 1)
    with pytest.raises(ValueError, match="no test summary"):
        tf.parse_test_summary("Error: Invalid configuration")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with moto_server(log_dir=tmp_path_factory.mktemp("moto")) as running:
        yield running


def client(server: MotoServer, service: str) -> Any:
    return CLIENT_FACTORY(
        service,
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_reset_forgets_every_resource(server: MotoServer) -> None:
    dynamodb = client(server, "dynamodb")
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    server.reset()

    assert dynamodb.list_tables()["TableNames"] == []


def test_tls_only_bucket_policy_admits_requests_but_other_denies_still_apply(server: MotoServer) -> None:
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="jit-bucket")
    s3.put_bucket_policy(
        Bucket="jit-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [TLS_ONLY]})
    )

    s3.put_object(Bucket="jit-bucket", Key="jit/r.env", Body=b"X=1")
    assert s3.get_object(Bucket="jit-bucket", Key="jit/r.env")["Body"].read() == b"X=1"

    deny_put = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::jit-bucket/*",
    }
    s3.put_bucket_policy(
        Bucket="jit-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [TLS_ONLY, deny_put]})
    )
    with pytest.raises(ClientError, match=r"403|AccessDenied|Forbidden"):
        s3.put_object(Bucket="jit-bucket", Key="jit/other.env", Body=b"X=2")
