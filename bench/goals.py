"""The first table of docs/BENCHMARKS.md: each goal (issues 16 and 17), what this run measured, and
whether the measured figure meets it. "met" is computed here from the figure, never written by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecsrunner_core.settings import Settings

from .cost_model import (
    ASSUMED_LATENCY_SECONDS,
    DEFAULT_LATENCY_SECONDS,
    LAMBDA_CPU_SHARE,
    LATENCY_SOURCES,
    modeled_remote_seconds,
)
from .markdown import table
from .stats import percentile

TITLE = "Goals"
DEFAULT_INTERVAL = 300.0  # janitor_schedule_expression default: rate(5 minutes)
FAST_INTERVAL = 60.0
LAUNCH_CONCURRENCY = Settings.launch_concurrency  # the module's default


@dataclass(frozen=True)
class Goal:
    key: str
    figure: str
    old: str
    goal: str
    measure: Callable[[dict[str, dict[str, Any]]], tuple[str, bool, dict[str, Any]] | None]


def _warm_calls(results: dict[str, dict[str, Any]]) -> tuple[str, bool, dict[str, Any]] | None:
    critical = results.get("critical-path")
    if not critical:
        return None
    warm = critical["scenarios"]["warm"]
    aws, github = warm["aws_calls"], warm["github_calls"]
    return f"{aws} AWS + {github} GitHub", aws <= 5 and github == 1, {"aws": aws, "github": github}


def _duplicate_calls(results: dict[str, dict[str, Any]]) -> tuple[str, bool, dict[str, Any]] | None:
    critical = results.get("critical-path")
    if not critical:
        return None
    duplicate = critical["scenarios"]["duplicate"]
    aws = duplicate["aws_calls"]
    return f"{aws} AWS + {duplicate['github_calls']} GitHub", aws <= 2, {"aws": aws}


def _stopped_reads(results: dict[str, dict[str, Any]]) -> tuple[str, bool, dict[str, Any]] | None:
    burst = results.get("burst")
    if not burst:
        return None
    stopped = burst["throughput"]["stopped_event"]
    items, queries, waiting = stopped["items_read"], stopped["queries"], stopped["waiting_for_slot"]
    text = (
        f"{items} items in {queries} queries ({stopped['starting']:,} runners STARTING,"
        f" {waiting} waiting for a slot)"
    )
    return text, items <= waiting + 1 and queries <= 2, {"items": items, "queries": queries}


def _variant(burst: dict[str, Any], interval: float) -> dict[str, Any] | None:
    return next((v for v in burst.get("ceiling", []) if v["interval_seconds"] == interval), None)


def _burst(results: dict[str, dict[str, Any]]) -> tuple[str, bool, dict[str, Any]] | None:
    burst = results.get("burst") or {}
    default = _variant(burst, DEFAULT_INTERVAL)
    if default is None:
        return None

    def cell(v: dict[str, Any]) -> str:
        return (
            f"{v['after_first_403_share_of_ceiling']:.0%} of the ceiling's pace from the first 403;"
            f" half launched in {v['wait_p50_seconds'] / 60:.1f} min,"
            f" last at {v['drain_seconds'] / 60:.1f} min"
        )

    text = f"default (every 5 min): {cell(default)}"
    fast = _variant(burst, FAST_INTERVAL)
    if fast is not None:
        text += f"; every 1 min: {cell(fast)}"
    share, half = default["after_first_403_share_of_ceiling"], default["wait_p50_seconds"]
    return text, share >= 0.95 and half <= 180.0, {"share": share, "half_seconds": half}


def launch_pace(results: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Modeled: one janitor run's launches per second on AWS. Its remote calls per launch (all the calls
    its runs made in the default-schedule burst, divided by the runners they launched) at the assumed
    latencies, ``launch_concurrency`` launches in flight; bounded by its CPU: the warm job's measured
    overhead per launch on a 512 MB function's share of a vCPU."""
    burst, critical = results.get("burst") or {}, results.get("critical-path")
    default = _variant(burst, DEFAULT_INTERVAL)
    if default is None or not critical or not default["janitor_run_launches"]:
        return None
    launches = default["janitor_run_launches"]
    per_launch = {k: v / launches for k, v in default["janitor_run_calls"].items()}
    latency = modeled_remote_seconds(per_launch)
    overheads = [m["overhead_seconds"] for m in critical["timings"]["core"]]
    cpu = percentile(overheads, 50) / LAMBDA_CPU_SHARE
    by_latency = LAUNCH_CONCURRENCY / latency
    by_cpu = 1 / cpu if cpu > 0 else float("inf")
    return {
        "calls_per_launch": per_launch,
        "latency_per_launch_seconds": latency,
        "cpu_per_launch_seconds": cpu,
        "concurrency": LAUNCH_CONCURRENCY,
        "per_second": min(by_latency, by_cpu),
        "bound": "latency" if by_latency <= by_cpu else "cpu",
        "launches": launches,
    }


def _pace(results: dict[str, dict[str, Any]]) -> tuple[str, bool, dict[str, Any]] | None:
    pace = launch_pace(results)
    if pace is None:
        return None
    text = (
        f"{pace['per_second']:.1f} launches/s"
        f" ({pace['latency_per_launch_seconds']:.2f} s of calls per launch,"
        f" {pace['concurrency']} at once; {pace['bound']}-bound)"
    )
    return text, pace["per_second"] >= 3.0, pace


def _overhead(results: dict[str, dict[str, Any]]) -> tuple[str, bool, dict[str, Any]] | None:
    critical = results.get("critical-path")
    if not critical:
        return None
    p99 = {
        path: percentile([m["overhead_seconds"] for m in series], 99)
        for path, series in critical["timings"].items()
    }
    cpu_p99 = {
        path: percentile([m["cpu_overhead_seconds"] for m in series], 99)
        for path, series in critical["timings"].items()
    }
    worst = max(p99.values())
    text = ", ".join(f"{path} {seconds * 1000:.1f} ms" for path, seconds in p99.items())
    cpu_text = ", ".join(f"{path} {seconds * 1000:.1f} ms" for path, seconds in cpu_p99.items())
    return f"{text} (CPU time: {cpu_text})", worst <= 0.010, {"p99_seconds": p99, "cpu_p99_seconds": cpu_p99}


def _warm_hits(results: dict[str, dict[str, Any]]) -> tuple[str, bool, dict[str, Any]] | None:
    warm = results.get("warm-start")
    if not warm or not warm["warm"]["jobs"]:
        return None
    hit, cold = warm["warm"], warm["cold"]
    text = f"warm p50 {hit['p50_seconds']:.1f} s, p95 {hit['p95_seconds']:.1f} s"
    if cold["jobs"]:
        text += f" (cold p50 {cold['p50_seconds']:.1f} s, p95 {cold['p95_seconds']:.1f} s)"
    return text, hit["p50_seconds"] <= 5.0, {"p50_seconds": hit["p50_seconds"]}


GOALS = [
    Goal(
        "warm_calls",
        "AWS calls, warm queued job (image cached)",
        "12",
        "≤ 5, GitHub calls 1 (github-aws-runners 6 AWS + 2 GitHub, cdk-github-runners 7 + 2)",
        _warm_calls,
    ),
    Goal("duplicate_calls", "AWS calls, duplicate delivery", "3", "≤ 2", _duplicate_calls),
    Goal(
        "stopped_reads",
        "items read by one ECS STOPPED event during a 1,000-job burst",
        "~every STARTING runner",
        "≤ runners actually waiting for a slot + 1, and ≤ 2 queries",
        _stopped_reads,
    ),
    Goal(
        "burst",
        "burst of 1,000 jobs under GitHub's 180 JIT configs/min, default settings",
        "last launch 9.6 min, 56 % of ceiling",
        "≥ 95 % of the ceiling from the first 403 to the last launch, and half the jobs launched"
        " within 3 min",
        _burst,
    ),
    Goal(
        "launch_pace",
        "one janitor run's own launch pace at the cost model's AWS latencies",
        "~99/min",
        "≥ 3 launches/s",
        _pace,
    ),
    Goal(
        "handler_overhead",
        "control-plane handler own overhead per warm job, p99",
        "12.2 ms",
        "≤ 10 ms",
        _overhead,
    ),
    Goal(
        "warm_hits",
        "queued → job started, warm hits (issue 16), p50",
        "none (no warm pools)",
        "≤ 5 s",
        _warm_hits,
    ),
]


def evaluate(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for goal in GOALS:
        found = goal.measure(results)
        rows.append(
            {
                "key": goal.key,
                "figure": goal.figure,
                "old": goal.old,
                "goal": goal.goal,
                "measured": found[0] if found else "not run",
                "met": found[1] if found else None,
                "values": found[2] if found else {},
            }
        )
    return rows


def render(results: dict[str, dict[str, Any]]) -> str:
    rows = evaluate(results)
    results["goals"] = {"rows": rows}
    body = table(
        ["figure", "old", "goal", "measured", "met"],
        [
            [
                r["figure"],
                r["old"],
                r["goal"],
                r["measured"],
                "-" if r["met"] is None else ("yes" if r["met"] else "**no**"),
            ]
            for r in rows
        ],
    )
    pace = launch_pace(results)
    latencies = ", ".join(
        f"{service} {seconds * 1000:.0f} ms" for service, seconds in ASSUMED_LATENCY_SECONDS.items()
    )
    pace_note = ""
    if pace is not None:
        calls = ", ".join(
            f"{target} {count:.2f}" for target, count in sorted(pace["calls_per_launch"].items())
        )
        pace_note = (
            f" Its calls per launch (every call of the default-schedule burst's janitor runs over the"
            f" {pace['launches']:,} runners they launched): {calls}. CPU per launch:"
            f" {pace['cpu_per_launch_seconds'] * 1000:.0f} ms (the warm job's measured overhead p50"
            f" / {LAMBDA_CPU_SHARE:.2f}, a 512 MB function's share of a vCPU)."
        )
    other_ms = DEFAULT_LATENCY_SECONDS * 1000
    sources = "; ".join(f"{service}: {text}" for service, text in LATENCY_SOURCES.items())
    return f"""{body}

"met" is computed from the measured figure by `bench/goals.py`. Counts are exact for this code; the burst is
a simulation on the emulators (see its section); the launch pace and queued → started are *modeled*: the
measured calls at assumed AWS and GitHub latencies ({latencies}, other AWS {other_ms:.0f} ms;
sources: {sources}).{pace_note} Handler overhead is this machine's (see the critical path).
"""
