"""`make demo`, trimmed: the smoke scenario end to end, non-interactively, as CI runs it.

A moto server, `terraform apply` of examples/sandbox, the built Lambda zip under the runtime's
Python, the GitHub stand-in, the operator CLI as a subprocess, and `terraform destroy`: the test
checks the demo's exit code and the numbers of its JSON summary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 900

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("demo")]


def test_the_smoke_demo_runs_clean(tmp_path: Path) -> None:
    assert shutil.which("terraform"), (
        "the demo needs terraform on PATH (https://developer.hashicorp.com/terraform)"
    )
    missing = [name for name in ("lambda.zip", "runner-context.zip") if not (ROOT / "dist" / name).is_file()]
    assert not missing, f"dist/{missing[0]} is missing: run `make build` first"
    summary_path = tmp_path / "summary.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "devtools"), os.environ.get("PYTHONPATH")])),
    }
    env.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ecsrunner_sandbox.demo",
            "--scenario",
            "smoke",
            "--no-color",
            "--work-dir",
            str(tmp_path / "demo"),
            "--json-summary",
            str(summary_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-8000:]
    assert "\033" not in done.stdout  # not a terminal: plain lines

    summary = json.loads(summary_path.read_text())
    assert summary["ok"] is True and summary["scenario"] == "smoke"
    jobs = summary["jobs"]
    assert jobs["valid"] == 2 and jobs["completed"] == jobs["valid"]
    assert summary["runners"] == {"OFFLINE": 2}
    assert summary["duplicates_delivered"] == 1 and summary["duplicates_created"] == 0
    assert summary["forged_sent"] == 1 and summary["forged_accepted"] == 0
    assert summary["image_builds"] == 1
    assert summary["events"]["dropped"] == 1 and summary["events"]["dead_lettered"] == 0
    assert summary["leftover"] == {
        "tasks_running": 0,
        "github_runners": 0,
        "jit_objects": 0,
        "dead_letters": 0,
    }
    assert summary["janitor"] is not None and summary["janitor"]["errors"] == []
    assert all(check["ok"] for check in summary["checks"])
    stages = {stage["name"]: stage["ok"] for stage in summary["stages"]}
    assert stages.get("Tear down") is True  # destroyed, servers stopped
    assert "via `python -m ecsrunner webhook send`" in done.stdout
    assert "RUNNER" in done.stdout and "OFFLINE" in done.stdout  # the CLI's `runners list` table
    for log in summary["logs"]["functions"]:
        assert "REPORT RequestId:" in Path(log).read_text()
