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
from ecsrunner_core.settings import Settings
from ecsrunner_core.usecases.github_pause import MAX_SLEEP_SECONDS

from bench.meters import PAUSE_READ

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LAUNCH_CONCURRENCY = Settings.launch_concurrency  # the default the burst runs with

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
    for name in ("critical-path", "warm-start", "burst", "janitor", "cold-start", "cli", "cost"):
        assert f"## {results['sections'][name]['title']}" in document
        assert f"python -m bench.run --only {name}" in document or name == "cost"
    for plot in ("burst.png", "janitor.png"):
        assert (out / "bench" / plot).read_bytes()[:8] == PNG_SIGNATURE
        assert f"](bench/{plot})" in document
    assert results["machine"]["cores"] >= 1
    # The goal table comes first, before every section.
    assert document.index("## Goals") < document.index("## Machine") < document.index("## Critical path")


def test_goal_table(quick_run: tuple[Path, dict[str, Any]]) -> None:
    """Every goal row is measured in this run, and "met" follows from the measured values."""
    out, results = quick_run
    rows = {row["key"]: row for row in results["goals"]["rows"]}
    assert set(rows) == {
        "warm_calls",
        "duplicate_calls",
        "stopped_reads",
        "burst",
        "launch_pace",
        "handler_overhead",
        "warm_hits",
    }
    assert all(row["met"] in (True, False) and row["measured"] != "not run" for row in rows.values())
    critical = section(results, "critical-path")["scenarios"]
    assert rows["warm_calls"]["values"] == {
        "aws": critical["warm"]["aws_calls"],
        "github": critical["warm"]["github_calls"],
    }
    assert rows["warm_calls"]["met"] == (
        critical["warm"]["aws_calls"] <= 5 and critical["warm"]["github_calls"] == 1
    )
    assert rows["duplicate_calls"]["met"] == (critical["duplicate"]["aws_calls"] <= 2)
    stopped = section(results, "burst")["throughput"]["stopped_event"]
    assert rows["stopped_reads"]["met"] == (
        stopped["items_read"] <= stopped["waiting_for_slot"] + 1 and stopped["queries"] <= 2
    )
    pace = rows["launch_pace"]["values"]
    assert pace["per_second"] > 0 and pace["concurrency"] == LAUNCH_CONCURRENCY
    assert rows["launch_pace"]["met"] == (pace["per_second"] >= 3.0)
    assert rows["burst"]["met"] == (
        rows["burst"]["values"]["share"] >= 0.95 and rows["burst"]["values"]["half_seconds"] <= 180.0
    )
    assert rows["warm_hits"]["met"] == (rows["warm_hits"]["values"]["p50_seconds"] <= 5.0)
    # The document states the latencies the model assumes, with their sources, and both schedules.
    document = (out / "BENCHMARKS.md").read_text()
    goals = document[document.index("## Goals") : document.index("## Machine")]
    assert "every 1 min" in goals and "default (every 5 min)" in goals
    assert "dynamodb 6 ms" in goals and "https://aws.amazon.com/dynamodb/" in goals


def test_warm_start(quick_run: tuple[Path, dict[str, Any]]) -> None:
    data = section(quick_run[1], "warm-start")
    assert data["pool_filled"] == data["pool_size"] and data["fill_errors"] == []
    assert data["claims"] == data["warm"]["jobs"] == data["pool_size"]
    assert data["starts"] == {"warm": data["warm"]["jobs"], "cold": data["cold"]["jobs"]}
    assert all(job["start"] == ("warm" if job["warm_hit"] else "cold") for job in data["jobs"])
    # A warm hit needs no Fargate start; a cold one is modeled within the published range.
    low, high = data["fargate_range_seconds"]
    assert all(job["fargate_seconds"] == 0 for job in data["jobs"] if job["warm_hit"])
    assert all(low <= job["fargate_seconds"] <= high for job in data["jobs"] if not job["warm_hit"])
    for summary in (data["warm"], data["cold"]):
        assert summary["jobs"] > 0 and 0 < summary["p50_seconds"] <= summary["p95_seconds"]
    assert data["idle_cost_per_runner_day"] > 0 and data["standin_violations"] == []


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
    # One STOPPED event while runners wait for a slot reads the waiting index, not the STARTING runners.
    stopped = throughput["stopped_event"]
    assert stopped["waiting_for_slot"] > 0 and stopped["starting"] >= jobs
    assert stopped["run_task_calls"] == 1 and stopped["waiting_after"] == stopped["waiting_for_slot"] - 1
    assert stopped["queries"] <= 2 and stopped["items_read"] <= stopped["waiting_for_slot"] + 1
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
        # The quick ceiling binds, and the pause stops the calls: the deliveries meet one 403, and a
        # janitor run at most one per launch in flight, not one per waiting runner.
        assert variant["jit_calls_limited"] > 0
        assert variant["deliveries_jit_ok"] == per_minute and variant["deliveries_jit_limited"] == 1
        assert variant["deferred_at_deliveries"] == jobs - per_minute
        assert all(run["jit_limited"] <= LAUNCH_CONCURRENCY for run in variant["janitor_runs"])
        assert variant["jit_calls_limited"] == 1 + sum(run["jit_limited"] for run in variant["janitor_runs"])
        # The pause was set, the janitor was asked to wake at its end, and no run slept through a
        # long pause (only pauses of a few seconds).
        assert variant["pauses_set"] >= 1 and variant["wake_up_schedules"] >= 1
        assert all(run["slept_seconds"] <= MAX_SLEEP_SECONDS + 1 for run in variant["janitor_runs"])
        assert variant["control_plane_slept_seconds"] == 0  # webhooks never wait for a pause
        assert {run["kind"] for run in variant["janitor_runs"]} <= {"scheduled", "wake-up"}
        assert 0 < variant["after_first_403_share_of_ceiling"] <= 1.0 + 1e-9
        assert variant["half_launched_seconds"] is not None
        assert variant["janitor_runs"][-1]["pending_after"] == 0
        assert variant["standin_violations"] == []


def test_janitor_reads_only_active_records(quick_run: tuple[Path, dict[str, Any]]) -> None:
    data = section(quick_run[1], "janitor")
    assert data["items_read_flat"]
    for level in data["levels"]:
        assert level["active"] == level["active_seen"]
        # One Query per active status, then one of the sparse waiting index for the launches that are
        # due: every active runner is read once, and the waiting index returns only runners due now
        # (those waiting for a retry are due later; launched STARTING runners are not in it).
        assert level["queries"] == 5 and level["waiting_index_queries"] == 1
        assert level["status_index_items"] == level["active"]
        assert level["waiting_for_retry"] > 0 and level["waiting_index_items"] == 0
        assert level["items_read"] == level["active"]
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
    assert all(cost["x86"] > cost["arm64"] > 0 for cost in data["pool_idle_per_runner_day"].values())
    assert set(data["latency_sources"]) >= set(data["latency_seconds"])
    assert all(dollars >= 0 for dollars in data["per_job"].values())
    assert all(p["source"].startswith("https://") for p in data["prices"].values())
