"""The closing section: what the numbers say about the core, derived from this run's results."""

from __future__ import annotations

from typing import Any

from ecsrunner_core.settings import Settings

from .cold_start import handler_import_ms
from .goals import launch_pace

TITLE = "Findings"


def _paragraph(text: str, **values: object) -> str:
    return " ".join(text.format(**values).split())


def _stopped_reads(burst: dict[str, Any]) -> str | None:
    stopped = (burst.get("throughput") or {}).get("stopped_event")
    if not stopped:
        return None
    values = {
        "items": stopped["items_read"],
        "queries": stopped["queries"],
        "units": stopped["read_units"],
        "starting": stopped["starting"],
        "waiting": stopped["waiting_for_slot"],
    }
    if stopped["items_read"] <= stopped["waiting_for_slot"] + 1 and stopped["queries"] <= 2:
        return _paragraph(
            """**Fixed: an ECS STOPPED event reads the runners waiting for a slot, not every STARTING
            runner.** `launch_waiting` reads the sparse waiting index (only STARTING runners without a task
            carry its keys), one page the size of what it may launch: during the burst one STOPPED event
            read {items} items in {queries} queries ({units:.1f} read units in all, its own record and the
            launch included) with {starting:,} runners STARTING and {waiting} waiting for a slot.""",
            **values,
        )
    return _paragraph(
        """**An ECS STOPPED event reads more than the runners waiting for a slot.** During the burst one
        STOPPED event read {items} items in {queries} queries with {starting:,} runners STARTING and
        {waiting} waiting for a slot. (Core: `usecases/retire.py` `launch_waiting`.)""",
        **values,
    )


def _janitor_speed(results: dict[str, dict[str, Any]]) -> str:
    """Modeled: how fast one janitor launches on AWS (the goal table's figure)."""
    pace = launch_pace(results)
    if pace is None:
        return ""
    return _paragraph(
        """*Modeled, not measured:* one janitor run launches about {rate:.1f} runners per second on AWS
        ({per_minute:.0f} per minute): {seconds:.2f} s of remote calls per launch at the cost model's
        latencies, {concurrency} launches in flight (`launch_concurrency`), so its own pace is well above
        GitHub's 180 per minute and the ceiling, not the janitor, sets the drain.""",
        rate=pace["per_second"],
        per_minute=pace["per_second"] * 60,
        seconds=pace["latency_per_launch_seconds"],
        concurrency=pace["concurrency"],
    )


def _rate_limit(results: dict[str, dict[str, Any]]) -> str | None:
    burst = results.get("burst", {})
    variants = burst.get("ceiling") or []
    if not variants:
        return None
    failed = sum(v["failed"] for v in variants)
    if failed:
        return _paragraph(
            """**Under GitHub's JIT ceiling launches still fail.** In the burst above {failed:,} queued jobs
            ended FAILED, although GitHub only asked to wait. (Core: `usecases/launch.py`,
            `usecases/github_pause.py`.)""",
            failed=failed,
        )
    by_interval = sorted(variants, key=lambda v: v["interval_seconds"], reverse=True)
    slow, fast = by_interval[0], by_interval[-1]
    return _paragraph(
        """**The drain under GitHub's ceiling follows the pause, not the janitor's schedule.** Every job
        was launched exactly once and none FAILED; {retried} A pause now wakes the
        janitor when it ends (a one-time schedule on the first whole minute after it, or at once from the
        first control-plane invocation after it), and the woken run launches {concurrency} at a time: half
        the jobs had a runner after {slow_p50} with the default `rate(5 minutes)` and after {fast_p50} with
        `rate(1 minute)`, and from the first 403 the drain went at {slow_share} and {fast_share} of the
        ceiling's pace. What separates a round from the ceiling's earliest next admission is the
        scheduler's whole-minute granularity when no task event comes first: a wake-up at the pause's
        exact end (or one that is re-armed by the first task event after it) would close the gap.
        {speed}""",
        retried=_retried(by_interval),
        concurrency=Settings.launch_concurrency,
        slow_p50=f"{slow['wait_p50_seconds'] / 60:.1f} min",
        fast_p50=f"{fast['wait_p50_seconds'] / 60:.1f} min",
        slow_share=f"{slow['after_first_403_share_of_ceiling']:.0%}",
        fast_share=f"{fast['after_first_403_share_of_ceiling']:.0%}",
        speed=_janitor_speed(results),
    )


def _retried(variants: list[dict[str, Any]]) -> str:
    """Runners launched only after a failed attempt, and what their records say it met."""
    if not any(v["launched_after_retries"] for v in variants):
        return "none needed a second attempt."
    parts = []
    for v in variants:
        errors = "; ".join(f"{n} x {text!r}" for text, n in v.get("retried_errors", {}).items()) or "none"
        parts.append(
            f"{v['launched_after_retries']} with the janitor every {v['interval_seconds'] / 60:.0f} min"
            f" (last error kept: {errors})"
        )
    return (
        "but some runners were launched only after a failed attempt (one spent of `max_launch_attempts`): "
        + ", ".join(parts)
        + ". A rate limit should defer a launch without spending an attempt; these attempts were spent"
        " on something else (see the error), with several launches in flight against the emulators."
    )


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
    reads = warm["counts"].get("dynamodb.GetItem", 0)
    if warm["aws_calls"] <= 5:
        return _paragraph(
            """**Fixed: a warm queued job makes {calls} AWS calls** ({reads} consistent `GetItem`s; was 12
            with 5 reads before each conditional write): {targets}, and one GitHub call (generate-jitconfig).
            A duplicate delivery makes {duplicate}.""",
            calls=warm["aws_calls"],
            reads=reads,
            targets=", ".join(
                f"{target} {count}"
                for target, count in sorted(warm["counts"].items())
                if not target.startswith("github.")
            ),
            duplicate=critical["scenarios"]["duplicate"]["aws_calls"],
        )
    return _paragraph(
        """**A warm queued job makes {calls} AWS calls, {reads} of them consistent `GetItem`s.** Most of
        them are reads before conditional writes on the critical path.""",
        calls=warm["aws_calls"],
        reads=reads,
    )


EMULATOR = _paragraph(
    """**Emulator limits met on the way** (worth adding to the shared emulator notes): moto 5.2
    deep-copies the whole table for every item of a `TransactWriteItems` call (O(table) per transaction; the
    moto server grew past 5 GB of memory during a 1,000-job burst), and builds every item in
    O(attributes²) (its size check re-measures the item on each attribute, about 2 ms for a runner record).
    These benchmarks run moto with both fixed, same semantics
    (`devtools/ecsrunner_sandbox/moto_patches.py`). moto also answers a GSI `Query` by scanning the
    whole table, so index queries slow down with history in moto only.
    (`ecsrunner_sandbox.moto_server` now binds port 0 in the server process and reports the port through
    a file, so a client can no longer reach another process's server.)"""
)


def render(results: dict[str, dict[str, Any]]) -> str:
    found = [
        _stopped_reads(results.get("burst", {})),
        _rate_limit(results),
        _pyc(results.get("cold-start", {})),
        _read_before_write(results.get("critical-path", {})),
        EMULATOR,
    ]
    return "\n".join(f"{i}. {text}" for i, text in enumerate((f for f in found if f), 1))
