"""`classes list` and `list-class-sizes`: the class sizes parameter through the core's parser."""

from __future__ import annotations

import json

import pytest
from ecsrunner_core.domain.classes import ClassSize, ClassSizes

SIZES = ClassSizes(
    classes={
        "small": ClassSize("small", 512, 1024),
        "arm": ClassSize("arm", 2048, 8192, architecture="arm64", ephemeral_storage_gib=100),  # type: ignore[arg-type]
        "spot": ClassSize("spot", 1024, 4096, spot=True),
    },
    default="spot",
)


@pytest.fixture
def parameter(session, configure) -> str:
    name = "/ecsr/class-sizes"
    session.client("ssm").put_parameter(Name=name, Type="String", Value=json.dumps(SIZES.to_json()))
    configure(CLASS_SIZES_PARAM=name)  # nothing else: as with the original tool
    return name


@pytest.mark.parametrize("command", [["classes", "list"], ["list-class-sizes"]])
def test_table(cli, parameter, command) -> None:
    result = cli(*command)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "NAME   CPU             MEMORY    SPOT  ARCH    STORAGE  DEFAULT",
        "arm    2048 (2 vCPU)   8192 MiB  no    arm64   100 GiB",
        "small  512 (0.5 vCPU)  1024 MiB  no    x86_64  default",
        "spot   1024 (1 vCPU)   4096 MiB  yes   x86_64  default  *",
    ]


@pytest.mark.parametrize("command", [["classes", "list"], ["list-class-sizes"]])
def test_json_is_the_parameter_document(cli, parameter, command) -> None:
    result = cli(*command, "--json")
    assert result.code == 0
    assert json.loads(result.out) == SIZES.to_json()


def test_invalid_sizes_show_the_core_message(cli, session, parameter) -> None:
    document = {"default": "tiny", "classes": {"tiny": {"cpu": 256, "memory": 4096}}}
    session.client("ssm").put_parameter(
        Name=parameter, Type="String", Value=json.dumps(document), Overwrite=True
    )
    result = cli("classes", "list")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: class sizes parameter {parameter}: class 'tiny': memory 4096 MiB is not valid with cpu 256; "
        "valid memory values: 512, 1024, 2048\n"
    )


def test_parameter_that_is_not_json(cli, session, parameter) -> None:
    session.client("ssm").put_parameter(Name=parameter, Type="String", Value="{small", Overwrite=True)
    result = cli("list-class-sizes")
    assert result.code == 1
    assert result.err.startswith(
        f"error: class sizes parameter {parameter}: parameter {parameter} is not JSON"
    )


def test_missing_parameter(cli, aws, configure) -> None:
    configure(CLASS_SIZES_PARAM="/nowhere/class-sizes")
    result = cli("classes", "list")
    assert result.code == 1
    assert result.err == (
        "error: parameter /nowhere/class-sizes not found in region us-east-1: check CLASS_SIZES_PARAM\n"
    )
