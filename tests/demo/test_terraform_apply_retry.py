"""The sandbox's ``terraform apply`` retries once, only on moto's lost default egress rule."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from ecsrunner_sandbox.terraform import MOTO_LOST_EGRESS_RULE, Terraform, TerraformError

LOST_RULE = f"Error: {MOTO_LOST_EGRESS_RULE} (sg-1): InvalidPermission.NotFound"


def scripted(failures: list[str]) -> tuple[Terraform, list[tuple[str, ...]]]:
    terraform = Terraform.__new__(Terraform)  # no binary or provider mirror needed
    calls: list[tuple[str, ...]] = []

    def run(*args: str, **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        if failures:
            raise TerraformError(args, 1, "", failures.pop(0))
        return subprocess.CompletedProcess(["terraform", *args], 0, "Apply complete!", "")

    terraform.run = run  # type: ignore[method-assign]
    return terraform, calls


def test_a_lost_egress_rule_is_applied_again() -> None:
    terraform, calls = scripted([LOST_RULE])
    assert terraform.apply().stdout == "Apply complete!"
    assert len(calls) == 2 and calls[0] == calls[1] and calls[0][0] == "apply"


def test_any_other_failure_is_final() -> None:
    terraform, calls = scripted(["Error: creating Lambda Function: ValidationException"])
    with pytest.raises(TerraformError, match="ValidationException"):
        terraform.apply()
    assert len(calls) == 1


def test_the_retry_happens_once() -> None:
    terraform, calls = scripted([LOST_RULE, LOST_RULE])
    with pytest.raises(TerraformError):
        terraform.apply()
    assert len(calls) == 2
