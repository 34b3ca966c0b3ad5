"""`make demo`, trimmed: the smoke scenario end to end, non-interactively, as CI runs it.

A moto server, `terraform apply` of examples/sandbox, the built Lambda zip under the runtime's
Python, the GitHub stand-in, the operator CLI as a subprocess, and `terraform destroy`: the test
checks the demo's exit code and the facts of its JSON summary (never its timings): a warm hit with
no task started for its job next to a cold start with one, the two jobs that would have been left
behind, and the `runners stats` output it ends with.
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
    # 2 jobs; a warm runner claimed, its refill (idle), a cold one; Spot: interrupted + relaunch; lost
    assert summary["runners"] == {"FAILED": 1, "OFFLINE": 6, "WAITING_FOR_JOB": 1}
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
    assert summary["janitor"]["warm_runners_added"] == 0  # the pool is full: nothing to add

    warm = summary["warm_pool"]
    assert (warm["pool"], warm["size"], warm["filled_by_janitor"]) == ("medium", 1, 1)
    assert warm["refilled"] == 1 and warm["idle_at_end"] == 1
    starts = {start["start"]: start for start in warm["starts"]}
    hit, cold = starts["warm"], starts["cold"]
    assert hit["tasks_for_job"] == 0 and hit["runner_pool"] == "medium" and hit["ran_once"]
    assert hit["answer"] == "warm runner from pool medium"
    assert cold["tasks_for_job"] == 1 and cold["runner_pool"] is None and cold["ran_once"]
    metrics = warm["job_start_latency_metrics"]
    assert len(metrics["warm"]) == 1 and len(metrics["cold"]) >= 1  # JobStartLatency by start

    left = summary["no_job_left_behind"]
    assert left["interrupted_status"] == "FAILED" and not left["interrupted_took_job"]
    assert left["relaunched_as"] == left["spot_ran_on"] and left["relaunch_on_demand"]
    assert left["spot_tasks"] == 2 and left["spot_ran_once"]
    assert left["lost_deliveries"] == 0 and left["jobs_reconciled"] == 1
    assert left["lost_found_on_github"] and left["lost_tasks"] == 1 and left["lost_ran_once"]

    stats = summary["runners_stats"]
    assert any(line.startswith("queued → running") for line in stats)
    assert any(line.startswith("jobs ") and "(8 runners" in line for line in stats), stats
    assert all(check["ok"] for check in summary["checks"])
    stages = {stage["name"]: stage["ok"] for stage in summary["stages"]}
    assert stages.get("Tear down") is True  # destroyed, servers stopped
    assert "via `python -m ecsrunner webhook send`" in done.stdout
    assert "RUNNER" in done.stdout and "OFFLINE" in done.stdout  # the CLI's `runners list` table
    summary_text = done.stdout[done.stdout.rindex("Summary") :]
    assert "warm  " in summary_text and "cold  " in summary_text  # side by side
    assert "python -m ecsrunner runners stats:" in summary_text  # it ends with the stats
    assert summary_text.index("queued → running") > summary_text.index("demo stages:")
    for log in summary["logs"]["functions"]:
        assert "REPORT RequestId:" in Path(log).read_text()
