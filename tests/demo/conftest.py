"""Fixtures of the demo's parts: a moto world in-process and small Lambda zips made on the fly."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"


def make_zip(path: Path, files: dict[str, str]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def create_function(session: boto3.Session, name: str, zip_path: Path, **extra: Any) -> str:
    iam = session.client("iam")
    try:
        role = iam.get_role(RoleName="fn-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    arn: str = session.client("lambda").create_function(
        FunctionName=name,
        Runtime=extra.pop("Runtime", "python3.13"),
        Role=role,
        Handler=extra.pop("Handler", "app.handler"),
        Code={"ZipFile": zip_path.read_bytes()},
        **extra,
    )["FunctionArn"]
    return arn
