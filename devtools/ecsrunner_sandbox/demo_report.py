"""The demo's closing checks and summary, from the deployment's own records and the stand-ins.

Invariants (any failure makes the demo exit 1): each valid job ran exactly once, on one of our
runners; one runner record per queued job, however often it was delivered; the refused job is
FAILED with a reason naming its label; forged and foreign inputs wrote nothing; no task left
running, no runner left registered in GitHub, no JIT object left in S3, nothing dead-lettered,
no function error, and no request to the GitHub stand-in outside GitHub's API description.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.domain.status import RunnerStatus

from .scenario import FORGED_JOB_ID, Played

# Stages of a runner's life, as (label, from status, to status) on the record's history.
STAGES = (
    ("accepted → task RUNNING (incl. image build)", RunnerStatus.STARTING, RunnerStatus.WAITING_FOR_JOB),
    ("waiting for the image build", RunnerStatus.IMAGE_CREATING, RunnerStatus.STARTING),
    ("WAITING_FOR_JOB → RUNNING", RunnerStatus.WAITING_FOR_JOB, RunnerStatus.RUNNING),
    ("RUNNING → OFFLINE", RunnerStatus.RUNNING, RunnerStatus.OFFLINE),
    ("accepted → OFFLINE", RunnerStatus.STARTING, RunnerStatus.OFFLINE),
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Leftovers:
    tasks_running: int
    github_runners: int
    jit_objects: int
    dead_letters: int


@dataclass
class Facts:
    """Everything the checks look at, gathered once after the scenario."""

    played: Played
    records: list[RunnerRecord]
    guard_for_forged: bool
    leftovers: Leftovers
    function_errors: int
    github_violations: list[str]
    janitor_report: dict[str, Any] | None
    image_builds: int
    events: dict[str, int]
    cli_listing_ok: bool
    extra_failures: list[str] = field(default_factory=list)


def _span(record: RunnerRecord, start: RunnerStatus, end: RunnerStatus) -> float | None:
    """Seconds from the first entry into ``start`` to the first entry into ``end`` after it."""
    history = record.history
    for index, entry in enumerate(history):
        if entry.status is start:
            later = next((e.at for e in history[index + 1 :] if e.status is end), None)
            return None if later is None else (later - entry.at).total_seconds()
    return None


def stage_medians(records: Iterable[RunnerRecord]) -> dict[str, float]:
    durations: dict[str, list[float]] = {label: [] for label, _, _ in STAGES}
    for record in records:
        for label, start, end in STAGES:
            seconds = _span(record, start, end)
            if seconds is not None:
                durations[label].append(seconds)
    return {label: round(statistics.median(values), 2) for label, values in durations.items() if values}


def check(facts: Facts) -> list[Check]:
    played, records = facts.played, facts.records
    checks: list[Check] = []

    def add(name: str, ok: bool, detail: str) -> None:
        checks.append(Check(name, ok, detail))

    add(
        "scenario settled before its deadline",
        played.settled,
        "every valid job completed, every task stopped",
    )
    add("every delivery answered as expected", not played.unexpected, "; ".join(played.unexpected) or "yes")
    for spec in played.scenario.valid_jobs:
        job = played.jobs[spec.name]
        ran = [r for r in records if r.run_job_id == job.id]
        add(
            f"job {job.id} ({spec.name}) ran exactly once",
            job.status == "completed" and job.conclusion == "success" and len(ran) == 1,
            f"GitHub: {job.status}/{job.conclusion}; runners that ran it: {len(ran)}",
        )
    for spec in played.scenario.jobs:
        job = played.jobs[spec.name]
        mine = [r for r in records if r.job_id == job.id]
        expected = 0 if spec.expect == "ignored" else 1
        add(
            f"job {job.id} ({spec.name}) has {expected} runner record(s)",
            len(mine) == expected,
            f"found {len(mine)}: {', '.join(f'{r.runner_name} {r.status}' for r in mine) or 'none'}",
        )
        if spec.expect == "refused":
            reason = mine[0].status_reason if mine else ""
            label = next((label for label in spec.labels if label.startswith("class:")), "")
            add(
                f"job {job.id} ({spec.name}) refused with a reason naming {label!r}",
                bool(mine) and mine[0].status is RunnerStatus.FAILED and label in reason,
                reason or "no record",
            )
    forged = played.forged
    add(
        "forged delivery refused and wrote nothing",
        forged is not None
        and forged.status == 401
        and not facts.guard_for_forged
        and not any(r.job_id == FORGED_JOB_ID for r in records),
        f"HTTP {forged.status if forged else '-'}; job guard written: {facts.guard_for_forged}",
    )
    if played.other_cluster_dropped is not None:
        add("event of another cluster dropped by the rule", played.other_cluster_dropped, "matched no rule")
    left = facts.leftovers
    add("no task left running", left.tasks_running == 0, f"{left.tasks_running} running")
    add("no runner left registered in GitHub", left.github_runners == 0, f"{left.github_runners} registered")
    add("no JIT object left in S3", left.jit_objects == 0, f"{left.jit_objects} under jit/")
    add("nothing dead-lettered", left.dead_letters == 0, f"{left.dead_letters} message(s) in the DLQ")
    add("no runner left active", all(r.terminal for r in records), "all OFFLINE or FAILED")
    add("no function error", facts.function_errors == 0, f"{facts.function_errors} error(s)")
    add(
        "GitHub stand-in saw only documented requests",
        not facts.github_violations,
        "; ".join(facts.github_violations[:3]) or "none",
    )
    add("janitor ran through its schedule rule", facts.janitor_report is not None, str(facts.janitor_report))
    add("`runners list` printed the runners", facts.cli_listing_ok, "CLI exit 0")
    for failure in facts.extra_failures:
        add("step failed", False, failure)
    return checks


def summary(
    facts: Facts, checks: Sequence[Check], *, stages: Sequence[Any], wall_seconds: float
) -> dict[str, Any]:
    played, records = facts.played, facts.records
    scenario = played.scenario
    by_expect = Counter(spec.expect for spec in scenario.jobs)
    completed = sum(1 for spec in scenario.valid_jobs if played.jobs[spec.name].status == "completed")
    duplicate = played.redelivery
    return {
        "scenario": scenario.name,
        "ok": all(c.ok for c in checks),
        "jobs": {
            "queued": len(scenario.jobs),
            "valid": by_expect["completed"],
            "completed": completed,
            "refused": by_expect["refused"],
            "ignored": by_expect["ignored"],
        },
        "runners": dict(sorted(Counter(str(r.status) for r in records).items())),
        "duplicates_delivered": 1 if duplicate else 0,
        "duplicates_created": sum(
            max(0, len([r for r in records if r.job_id == job.id]) - 1) for job in played.jobs.values()
        ),
        "forged_sent": 1 if played.forged else 0,
        "forged_accepted": 0 if played.forged is None or played.forged.status == 401 else 1,
        "image_builds": facts.image_builds,
        "events": facts.events,
        "leftover": asdict(facts.leftovers),
        "janitor": facts.janitor_report,
        "runner_stage_medians_seconds": stage_medians(records),
        "stages": [{"name": s.name, "seconds": round(s.seconds, 1), "ok": s.ok} for s in stages],
        "wall_seconds": round(wall_seconds, 1),
        "checks": [asdict(c) for c in checks],
    }


def format_summary(data: dict[str, Any]) -> list[str]:
    jobs, events = data["jobs"], data["events"]
    lines = [
        f"jobs      {jobs['queued']} queued: {jobs['completed']}/{jobs['valid']} valid jobs completed, "
        f"{jobs['refused']} refused (unknown class), {jobs['ignored']} ignored (another fleet)",
        "runners   " + ", ".join(f"{count} {status}" for status, count in data["runners"].items()),
        f"webhooks  {data['duplicates_delivered']} redelivery → {data['duplicates_created']} duplicate "
        f"runners; {data['forged_sent']} forged → {data['forged_accepted']} accepted",
        f"events    {events.get('ecs', 0)} ECS task events, {events.get('codebuild', 0)} CodeBuild events, "
        f"{events.get('dropped', 0)} dropped by the rules, {events.get('dead_lettered', 0)} dead-lettered; "
        f"{data['image_builds']} image build(s)",
        "leftover  " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in data["leftover"].items()),
    ]
    medians = data["runner_stage_medians_seconds"]
    if medians:
        lines.append("runner stages (median over runners):")
        lines += [f"  {label:<44} {seconds:6.2f}s" for label, seconds in medians.items()]
    lines.append("demo stages:")
    lines += [
        f"  {s['name']:<44} {s['seconds']:6.1f}s{'' if s['ok'] else '  FAILED'}" for s in data["stages"]
    ]
    lines.append(f"  {'total wall time':<44} {data['wall_seconds']:6.1f}s")
    return lines
