"""The closing section: what the numbers say about the core, derived from this run's results."""

from __future__ import annotations

from typing import Any

from .cold_start import handler_import_ms
from .cost_model import lambda_seconds

TITLE = "Findings"


def _paragraph(text: str, **values: object) -> str:
    return " ".join(text.format(**values).split())


def _stopped_reads(critical: dict[str, Any]) -> str | None:
    reads = critical.get("stopped_items_read")
    if reads is None:
        return None
    return _paragraph(
        """**An ECS STOPPED event reads every STARTING runner.** `handle_task_event` calls
        `launch_waiting(limit=1)`, which pages through the whole STARTING partition (oldest first) looking
        for a runner that is due; launched runners stay STARTING until their task runs. Here one STOPPED
        event read {reads} items ({units:.1f} read units) with about {backlog} runners STARTING. During a
        burst of 1,000 jobs that is up to 1,000 items (about {per_thousand:.0f} read units) per stopped task,
        growing with the backlog rather than with the number of runners actually waiting for capacity.
        A sparse attribute (or status) for runners that wait for a slot or a retry would make it one
        small query. (Core: `usecases/retire.py`, `usecases/tasks.py`; not changed here.)""",
        reads=reads,
        units=critical.get("stopped_read_units", 0.0),
        per_thousand=1000 * critical.get("stopped_read_units", 0.0) / max(reads, 1),
        backlog=critical.get("starting_backlog_at_stop"),
    )


def _janitor_speed(critical: dict[str, Any], per_minute: int) -> str:
    """Modeled: how fast one janitor launches on AWS, from the warm job's calls at assumed latencies."""
    warm = (critical.get("scenarios") or {}).get("warm")
    if not warm:
        return ""
    seconds = lambda_seconds(warm)
    rate = 60 / seconds
    if rate >= per_minute:
        verdict = "faster than the ceiling: the pause, not the janitor, sets the pace"
    else:
        verdict = (
            f"{rate / per_minute:.0%} of the {per_minute} per minute GitHub allows: its own pace, not the"
            " ceiling, would set the drain of a burst's backlog there, and when the first run starts (the"
            " schedule) and overlapping runs matter more than the pause"
        )
    return _paragraph(
        """*Modeled, not measured:* on AWS a launch costs about what a warm queued job does at the cost
        model's assumed latencies (GitHub's generate-jitconfig and RunTask dominate), {seconds:.2f} s, so
        one janitor launches at most about {rate:.0f} runners per minute one after another,
        {verdict}.""",
        seconds=seconds,
        rate=rate,
        verdict=verdict,
    )


def _rate_limit(burst: dict[str, Any], critical: dict[str, Any]) -> str | None:
    variants = burst.get("ceiling") or []
    if not variants:
        return None
    failed = sum(v["failed"] for v in variants)
    retried = sum(v["launched_after_retries"] for v in variants)
    if failed or retried:
        return _paragraph(
            """**Under GitHub's JIT ceiling launches still fail.** In the burst above {failed:,} queued jobs
            ended FAILED and {retried:,} were launched only after failed attempts, although GitHub only
            asked to wait. (Core: `usecases/launch.py`, `usecases/github_pause.py`.)""",
            failed=failed,
            retried=retried,
        )
    by_interval = sorted(variants, key=lambda v: v["interval_seconds"], reverse=True)
    slow, fast = by_interval[0], by_interval[-1]
    left_behind = any(run["due_left"] for v in variants for run in v["janitor_runs"])
    order = (
        """And when a janitor run meets the ceiling, the runner whose launch was answered 403 is
        deferred, the run sleeps through the pause and launches the runners after it, but
        `launch_waiting` has passed that runner and does not come back to it: it waits for the next
        run, behind runners queued after it. {skipped} Retrying the deferred runner after the sleep
        would keep the queue order."""
        if left_behind
        else """When a janitor run meets the ceiling, it sleeps through the pause and launches the runner
        that was answered 403 again before moving on, so the queue order holds: {skipped}"""
    )
    return _paragraph(
        """**A GitHub rate limit no longer costs launch attempts; the drain waits for the janitor's
        schedule.** In the burst above every job was launched exactly once, none FAILED and none needed
        a second attempt, with {limited} generate-jitconfig calls answered 403 (one per rolling minute
        used up). But the {deferred:,} runners deferred during the deliveries wait for the first janitor
        run, although the pause ends after a minute: half the jobs had a runner after {slow_p50} with the
        default `rate(5 minutes)` and after {fast_p50} with `rate(1 minute)`. """
        + order
        + """ Starting the drain when the pause ends (a shorter schedule, or the control plane
        launching due runners) would cut the first wait. (Core: `usecases/retire.py`
        `launch_waiting`.) {speed}""",
        limited=" and ".join(
            f"{v['jit_calls_limited']:,} ({v['interval_seconds'] / 60:.0f}-minute janitor)"
            for v in by_interval
        ),
        deferred=slow["deferred_at_deliveries"],
        slow_p50=f"{slow['wait_p50_seconds'] / 60:.1f} min",
        fast_p50=f"{fast['wait_p50_seconds'] / 60:.1f} min",
        skipped=" ".join(_left_behind(v) for v in by_interval),
        speed=_janitor_speed(critical, slow["ceiling_per_minute"]),
    )


def _left_behind(variant: dict[str, Any]) -> str:
    """What the runs of one schedule left behind: runners due when the run ended, and when they ran."""
    runs = variant["janitor_runs"]
    found = []
    for index, run in enumerate(runs):
        if not run["due_left"]:
            continue
        later = runs[index + 1]["started"] / 60 if index + 1 < len(runs) else None
        when = f"the next run at {later:.1f} min launched them" if later is not None else "no later run"
        found.append(
            f"{run['due_left']} left by the run that ended at {run['finished'] / 60:.1f} min"
            f" after sleeping through {run['jit_limited']} pause{'s' if run['jit_limited'] != 1 else ''}"
            f" ({when})"
        )
    every = f"With the janitor every {variant['interval_seconds'] / 60:.0f} min:"
    return f"{every} {'; '.join(found)}." if found else f"{every} none left behind."


def _pyc(cold: dict[str, Any]) -> str | None:
    facts = cold.get("zip")
    shipped = handler_import_ms(cold, "shipped")
    if not facts or shipped is None:
        return None
    if facts["pyc_files"]:
        source = handler_import_ms(cold, "source")
        if source is None:
            return None
        return _paragraph(
            """**Fixed: the Lambda zip ships bytecode.** `scripts/build_artifacts.py` now compiles every
            module with the runtime's Python ({tag}, unchecked-hash `.pyc`, so the zip stays byte-identical
            from build to build): importing the control-plane handler took {shipped:.0f} ms as shipped,
            against {source:.0f} ms from the same zip without its `.pyc` (what every cold start paid before,
            because `/var/task` is read-only), about {saving:.0f} ms less INIT time per cold start on this
            CPU, roughly 3.5 times that on a 512 MB function.""",
            tag=facts.get("bytecode"),
            shipped=shipped,
            source=source,
            saving=source - shipped,
        )
    compiled = handler_import_ms(cold, "compiled")
    if compiled is None:
        return None
    return _paragraph(
        """**The Lambda zip ships no bytecode** (it was built without the runtime's Python). `/var/task` is
        read-only, so every cold start compiles the package's sources: importing the control-plane handler
        took {shipped:.0f} ms as shipped and {compiled:.0f} ms with `.pyc` files compiled ahead (best of the
        runs). Build with `python3.13` available (`ECSRUNNER_RUNTIME_PYTHON`, PATH or pyenv).""",
        shipped=shipped,
        compiled=compiled,
    )


def _read_before_write(critical: dict[str, Any]) -> str | None:
    warm = (critical.get("scenarios") or {}).get("warm")
    if not warm:
        return None
    return _paragraph(
        """**A warm queued job makes {calls} AWS calls, {reads} of them consistent `GetItem`s.** Each
        `RunnerStore.update` reads the record before its conditional write, and a launch updates the record
        four times (claim, slot, GitHub runner id, task). That is correct and cheap in DynamoDB (one read
        unit each) but it is most of the calls on the critical path; folding the runner-id update into the
        task update would save a read and a write per job.""",
        calls=warm["aws_calls"],
        reads=warm["counts"].get("dynamodb.GetItem", 0),
    )


EMULATOR = _paragraph(
    """**Emulator limits met on the way** (worth adding to the shared emulator notes): moto 5.2
    deep-copies the whole table for every item of a `TransactWriteItems` call (O(table) per transaction; the
    moto server grew past 5 GB of memory during a 1,000-job burst), and builds every item in
    O(attributes²) (its size check re-measures the item on each attribute, about 2 ms for a runner record).
    These benchmarks run moto with both fixed, same semantics (`bench/moto_patches.py`). moto also answers
    a GSI `Query` by scanning the whole table, so index queries slow down with history in moto only.
    (`ecsrunner_sandbox.moto_server` now binds port 0 in the server process and reports the port through
    a file, so a client can no longer reach another process's server.)"""
)


def render(results: dict[str, dict[str, Any]]) -> str:
    found = [
        _stopped_reads(results.get("critical-path", {})),
        _rate_limit(results.get("burst", {}), results.get("critical-path", {})),
        _pyc(results.get("cold-start", {})),
        _read_before_write(results.get("critical-path", {})),
        EMULATOR,
    ]
    return "\n".join(f"{i}. {text}" for i, text in enumerate((f for f in found if f), 1))
