"""terraform fmt -check, then init + validate of the root module, every module and every example.

Runs offline through the provider mirror when the machine has one (see
devtools/ecsrunner_sandbox/terraform.py); otherwise Terraform downloads providers from the registry.
Everything runs on a scratch copy, so no .terraform/ or lock file lands in the repository.

    python scripts/terraform_check.py [--jobs N]

Exit status 0 when every check passed; the last line is "terraform_check: N passed, M failed".
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "devtools"))

from ecsrunner_sandbox.terraform import (  # noqa: E402 (needs the path above)
    Terraform,
    TerraformError,
    find_provider_mirror,
    stage_configuration,
    write_cli_config,
)


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


def configuration_dirs(root: Path) -> list[str]:
    """The root module, each module and each example, as paths relative to the repository."""
    found = ["."]
    for parent in ("modules", "examples"):
        found += sorted(
            f"{parent}/{child.name}" for child in (root / parent).iterdir() if any(child.glob("*.tf"))
        )
    return found


def format_targets(root: Path) -> list[str]:
    """The root module's files and the Terraform trees; not build/ or other scratch copies."""
    files = sorted(path.name for path in root.glob("*.tf"))
    folders = [folder for folder in ("modules", "examples", "tests/terraform") if (root / folder).is_dir()]
    return files + folders


def check_format(root: Path, cli_config: Path) -> CheckResult:
    started = time.monotonic()
    terraform = Terraform(root, cli_config=cli_config)
    try:
        terraform.run("fmt", "-check", "-recursive", "-diff", "-no-color", *format_targets(root))
    except TerraformError as error:
        detail = f"run `terraform fmt -recursive`:\n{error.stdout}{error.stderr}"
        return CheckResult("fmt -check -recursive", False, time.monotonic() - started, detail)
    return CheckResult("fmt -check -recursive", True, time.monotonic() - started)


def check_configuration(staged_root: Path, relative: str, cli_config: Path) -> CheckResult:
    started = time.monotonic()
    terraform = Terraform(staged_root / relative, cli_config=cli_config)
    try:
        terraform.run("init", "-backend=false", "-input=false", "-no-color")
        terraform.validate()
    except TerraformError as error:
        return CheckResult(f"validate {relative}", False, time.monotonic() - started, str(error))
    return CheckResult(f"validate {relative}", True, time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1), help="parallel validations")
    args = parser.parse_args(argv)

    mirror = find_provider_mirror()
    print(f"terraform_check: providers from {mirror or 'the registry (no local mirror found)'}")
    with tempfile.TemporaryDirectory(prefix="terraform-check-") as scratch:
        scratch_dir = Path(scratch)
        cli_config = write_cli_config(scratch_dir / "cli", mirror)
        staged_root = stage_configuration(scratch_dir / "repo")
        results = [check_format(ROOT, cli_config)]
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results += pool.map(
                lambda relative: check_configuration(staged_root, relative, cli_config),
                configuration_dirs(ROOT),
            )

    for result in results:
        print(f"  {'ok  ' if result.ok else 'FAIL'} {result.name} ({result.seconds:.1f}s)")
        if result.detail:
            print("    " + result.detail.replace("\n", "\n    "))
    failed = sum(not result.ok for result in results)
    print(f"terraform_check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
