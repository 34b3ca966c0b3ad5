"""``python -m bench.run --quick`` end to end: every benchmark runs at a tiny size and its results have
the structure the document needs. Facts only, never durations (speed targets live in bench/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.meters import PAUSE_READ

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("bench")]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "devtools"), str(ROOT)])}
    env.pop("AWS_ENDPOINT_URL", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--quick",
            "--out",
            str(out),
            "--json",
            str(out / "results.json"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return out, json.loads((out / "results.json").read_text())


def section(results: dict[str, Any], name: str) -> dict[str, Any]:
    data: dict[str, Any] = results["sections"][name]["data"]
    return data


def test_document_and_plots(quick_run: tuple[Path, dict[str, Any]]) -> None:
    out, results = quick_run
    document = (out / "BENCHMARKS.md").read_text()
    for name in ("critical-path", "burst", "janitor", "cold-start", "cli", "cost"):
        assert f"## {results['sections'][name]['title']}" in document
        assert f"python -m bench.run --only {name}" in document or name == "cost"
    for plot in ("burst.png", "janitor.png"):
        assert (out / "bench" / plot).read_bytes()[:8] == PNG_SIGNATURE
        assert f"](bench/{plot})" in document
    assert results["machine"]["cores"] >= 1


def test_critical_path_calls(quick_run: tuple[Path, dict[str, Any]]) -> None:
    data = section(quick_run[1], "critical-path")
    assert data["warm_counts_identical"]
    assert data["handler_counts_match_core"]
    assert data["standin_violations"] == []
    warm = data["scenarios"]["warm"]["counts"]
    assert warm["ecs.RunTask"] == 1
    assert warm["s3.PutObject"] == 1
    assert warm["github.POST {scope}/actions/runners/generate-jitconfig"] == 1
    assert "secretsmanager.GetSecretValue" not in warm  # cached in a warm container
    assert data["scenarios"]["cold"]["counts"]["secretsmanager.GetSecretValue"] == 2
    # A new container reads the GitHub pause item before its first launch; warm ones reuse it a while.
    assert data["scenarios"]["cold"]["counts"][PAUSE_READ] == 1
    assert PAUSE_READ not in warm
    for series in data["pause_reads"].values():
        assert series["reads"] == series["jobs_reading_pause"] <= series["jobs"]
        assert series["min_gap_seconds"] is None or series["min_gap_seconds"] >= 5.0  # the store's cache
    assert data["scenarios"]["first_job"]["counts"]["codebuild.StartBuild"] == 1
    assert "ecs.RunTask" not in data["scenarios"]["first_job"]["counts"]
    assert data["scenarios"]["build_event"]["counts"]["ecs.RunTask"] == 1
    duplicate = data["scenarios"]["duplicate"]
    assert "ecs.RunTask" not in duplicate["counts"] and duplicate["github_calls"] == 0
    assert data["log_bytes_per_invocation"] > 0


def test_burst_launches_each_job_once(quick_run: tuple[Path, dict[str, Any]]) -> None:
    data = section(quick_run[1], "burst")
    throughput = data["throughput"]
    jobs = throughput["jobs"]
    assert throughput["outcomes"] == {"accepted": jobs, "duplicate": throughput["deliveries"] - jobs}
    assert throughput["run_task_calls"] == throughput["ecs_tasks"] == throughput["launched_records"] == jobs
    assert throughput["standin_violations"] == []
    assert [variant["interval_seconds"] for variant in data["ceiling"]] == [300.0, 60.0]
    for variant in data["ceiling"]:
        per_minute = variant["ceiling_per_minute"]
        assert variant["outcomes"] == {"accepted": jobs, "duplicate": variant["deliveries"] - jobs}
        # Every job launched exactly once (one JIT config, one RunTask), none FAILED, and the rate
        # limit cost no launch attempt.
        assert variant["launched"] == variant["run_task_calls"] == variant["jit_calls_ok"] == jobs
        assert len(variant["launch_times"]) == jobs
        assert variant["failed"] == 0
        assert variant["attempts_of_launched"] == {"0": jobs}
        # The quick ceiling binds, and the pause stops the calls: one 403 per rolling minute used up,
        # not one per waiting runner.
        assert variant["jit_calls_limited"] > 0
        assert variant["jit_calls_limited"] <= variant["jit_calls_ok"] // per_minute
        assert variant["deliveries_jit_ok"] == per_minute and variant["deliveries_jit_limited"] == 1
        assert variant["deferred_at_deliveries"] == jobs - per_minute
        # The pause was set, and the janitor slept through it instead of calling GitHub.
        assert variant["pauses_set"] >= variant["jit_calls_limited"]
        assert variant["janitor_slept_seconds"] > 0
        assert variant["control_plane_slept_seconds"] == 0  # webhooks never wait for a pause
        assert variant["janitor_runs"][-1]["pending_after"] == 0
        assert variant["standin_violations"] == []


def test_janitor_reads_only_active_records(quick_run: tuple[Path, dict[str, Any]]) -> None:
    data = section(quick_run[1], "janitor")
    assert data["items_read_flat"]
    for level in data["levels"]:
        assert level["active"] == level["active_seen"]
        # One Query per active status, then STARTING again for the launches to retry.
        assert level["queries"] == 5
        assert level["items_read"] == level["active"] + level["starting"]
        assert all(reads <= 1 for reads in level["pause_reads"])  # the pause item, cached 5 s
        assert level["actions"] == 0 and level["errors"] == 0
    assert [level["terminal"] for level in data["levels"]] == sorted(
        level["terminal"] for level in data["levels"]
    )


def test_cold_start_rows(quick_run: tuple[Path, dict[str, Any]]) -> None:
    data = section(quick_run[1], "cold-start")
    assert not data.get("skipped"), (
        f"the cold-start benchmark needs the Lambda runtime: {data.get('skipped')}"
    )
    modules = {row["module"] for row in data["rows"]}
    assert "boto3" in modules
    if "zip" in data:
        assert {"ecsrunner_lambda.control_plane", "ecsrunner_lambda.janitor"} <= modules
        assert data["zip"]["zip_bytes"] > 0
    assert all(row["median_us"] > 0 for row in data["rows"])


def test_cli_listing(quick_run: tuple[Path, dict[str, Any]]) -> None:
    data = section(quick_run[1], "cli")
    for run in data["core"]:
        assert run["records"] == 50
        assert run["items_read"] == data["running"]  # the RUNNING partition only, never the history
    for run in data["cli"]:
        assert run["exit_code"] == 0, run["stderr"]


def test_cost_model(quick_run: tuple[Path, dict[str, Any]]) -> None:
    data = section(quick_run[1], "cost")
    assert data["per_1000_jobs"] > 0
    assert all(dollars >= 0 for dollars in data["per_job"].values())
    assert all(p["source"].startswith("https://") for p in data["prices"].values())
