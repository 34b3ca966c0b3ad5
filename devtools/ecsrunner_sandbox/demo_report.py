"""The demo's closing checks and summary, from the deployment's own records and the stand-ins.

Invariants (any failure makes the demo exit 1): each valid job ran exactly once, on one of our
runners; one runner record per queued job, however often it was delivered; the refused job is
FAILED with a reason naming its label; forged and foreign inputs wrote nothing; no task left
running, no runner left registered in GitHub, no JIT object left in S3, nothing dead-lettered,
no function error, and no request to the GitHub stand-in outside GitHub's API description.
With a warm pool: the janitor filled it; the job it covers took its idle runner with no task
started for the job, and the pool was refilled; the job it does not cover started its own task;
what is left is the pool's idle runners, as configured (the leftovers above do not count them).
No job left behind: the job whose Spot task was interrupted before its runner took it ran once, on
a relaunched on-demand runner; the job whose queued webhook was lost was found by the janitor's
reconciliation with GitHub and ran once.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.domain.status import RunnerStatus

from .scenario import FORGED_JOB_ID, Played, labels_text

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
class JobStart:
    """How one job of the warm pool part started."""

    start: str  # "warm" or "cold"
    job_id: int
    name: str
    labels: tuple[str, ...]
    answer: str  # the control plane's answer to its queued delivery
    runner: str | None  # the runner GitHub gave it
    runner_pool: str | None  # that runner's pool (None: launched for the job)
    tasks_for_job: int  # ECS tasks tagged with the job's id (RunTask for this job)
    ran_once: bool  # completed successfully, one runner record ran it
    latency_seconds: float | None  # queued → in_progress, on GitHub's side


@dataclass
class WarmFacts:
    pool: str
    class_name: str
    size: int
    filled: bool
    fill_added: int  # warm runners the janitor's fill added
    idle_before: list[str]  # the pool's idle runners when the jobs were queued
    starts: list[JobStart]
    refills: int  # tasks of the pool started after the jobs were queued
    idle_after: list[str]  # the pool's idle runners at the end
    idle_after_tasks: int  # of which have their task running
    idle_after_github: int  # of which are registered in GitHub
    latency_metrics: dict[str, list[float]]  # JobStartLatency data points (seconds) by their start dimension
    settled: bool

    def start(self, kind: str) -> JobStart | None:
        return next((s for s in self.starts if s.start == kind), None)


@dataclass
class LeftBehindFacts:
    spot_job_id: int
    spot_labels: tuple[str, ...]
    interrupted: str | None  # the runner whose Spot task was interrupted
    interrupted_status: str | None
    interrupted_reason: str
    interrupted_took_job: bool
    relaunched_as: str | None  # the runner that replaces it
    relaunch_on_demand: bool
    spot_ran_on: str | None
    spot_tasks: int  # ECS tasks tagged with the job's id
    spot_ran_once: bool
    lost_job_id: int
    lost_labels: tuple[str, ...]
    lost_deliveries: int  # queued deliveries GitHub sent for it
    jobs_reconciled: int  # the janitor run's report
    lost_runner: str | None
    lost_found_on_github: bool  # its runner's history says the janitor found it on GitHub
    lost_tasks: int
    lost_ran_once: bool
    settled: bool


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
    warm: WarmFacts | None = None
    left_behind: LeftBehindFacts | None = None
    stats_lines: list[str] = field(default_factory=list)  # `runners stats` output (empty: it failed)


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
    warm_idle = set(facts.warm.idle_after) if facts.warm is not None else set()
    add(
        "no runner left active",
        all(r.terminal or r.runner_name in warm_idle for r in records),
        "all OFFLINE or FAILED" + (", but for the warm pool's idle runners" if warm_idle else ""),
    )
    add("no function error", facts.function_errors == 0, f"{facts.function_errors} error(s)")
    add(
        "GitHub stand-in saw only documented requests",
        not facts.github_violations,
        "; ".join(facts.github_violations[:3]) or "none",
    )
    add("janitor ran through its schedule rule", facts.janitor_report is not None, str(facts.janitor_report))
    if facts.warm is not None:
        checks += warm_checks(facts.warm, played.warm.spec.size if played.warm else 0)
    if facts.left_behind is not None:
        checks += left_behind_checks(facts.left_behind)
    add("`runners list` printed the runners", facts.cli_listing_ok, "CLI exit 0")
    add(
        "`runners stats` printed the fleet's statistics",
        any(line.startswith("queued → running") for line in facts.stats_lines),
        "CLI exit 0 with its queued → running line",
    )
    for failure in facts.extra_failures:
        add("step failed", False, failure)
    return checks


def warm_checks(warm: WarmFacts, size: int) -> list[Check]:
    """The warm hit and the cold start, from the records, ECS tags and the stand-in."""
    hit, cold = warm.start("warm"), warm.start("cold")
    checks = [
        Check(
            f"the janitor filled warm pool {warm.pool!r} ({size} runner(s) idle in GitHub)",
            warm.filled and warm.fill_added == size and len(warm.idle_before) == size,
            f"added {warm.fill_added}, idle {len(warm.idle_before)}",
        ),
        Check(
            "the warm pool part settled before its deadline",
            warm.settled,
            "both jobs completed, the pool back at its size",
        ),
    ]
    if hit is not None:
        checks.append(
            Check(
                f"job {hit.job_id} ({hit.name}) took the idle warm runner: no task started for it",
                hit.ran_once
                and hit.tasks_for_job == 0
                and hit.runner in warm.idle_before
                and hit.runner_pool == warm.pool,
                f"answer {hit.answer!r}; runner {hit.runner} (pool {hit.runner_pool}); "
                f"tasks for the job: {hit.tasks_for_job}",
            )
        )
    if cold is not None:
        checks.append(
            Check(
                f"job {cold.job_id} ({cold.name}) started cold: one task started for it",
                cold.ran_once and cold.tasks_for_job == 1 and cold.runner_pool is None,
                f"answer {cold.answer!r}; tasks for the job: {cold.tasks_for_job}",
            )
        )
    checks += [
        Check(
            f"warm pool {warm.pool!r} refilled after the claim",
            warm.refills == 1,
            f"{warm.refills} task(s) of the pool started after the jobs were queued",
        ),
        Check(
            f"left: only the pool's {size} idle warm runner(s), running and registered",
            len(warm.idle_after) == warm.idle_after_tasks == warm.idle_after_github == size,
            f"{len(warm.idle_after)} idle, {warm.idle_after_tasks} task(s) running, "
            f"{warm.idle_after_github} registered in GitHub",
        ),
        Check(
            "JobStartLatency recorded a warm start and a cold start",
            len(warm.latency_metrics.get("warm", [])) == 1 and len(warm.latency_metrics.get("cold", [])) >= 1,
            f"data points by start: {warm.latency_metrics}",
        ),
    ]
    return checks


def left_behind_checks(left: LeftBehindFacts) -> list[Check]:
    return [
        Check("no job left behind: settled before its deadline", left.settled, "both jobs completed"),
        Check(
            f"job {left.spot_job_id}: its Spot task interrupted before the job, a relaunched runner ran it",
            left.interrupted is not None
            and left.interrupted_status == "FAILED"
            and not left.interrupted_took_job
            and left.relaunched_as is not None
            and left.relaunch_on_demand
            and left.spot_ran_on == left.relaunched_as
            and left.spot_tasks == 2
            and left.spot_ran_once,
            f"{left.interrupted} {left.interrupted_status} ({left.interrupted_reason}); relaunched as "
            f"{left.relaunched_as} (on-demand: {left.relaunch_on_demand}); ran on {left.spot_ran_on}; "
            f"tasks for the job: {left.spot_tasks}",
        ),
        Check(
            f"job {left.lost_job_id}: its webhook lost, the janitor found it on GitHub and a runner ran it",
            left.lost_deliveries == 0
            and left.jobs_reconciled == 1
            and left.lost_found_on_github
            and left.lost_tasks == 1
            and left.lost_ran_once,
            f"queued deliveries {left.lost_deliveries}; jobs_reconciled {left.jobs_reconciled}; runner "
            f"{left.lost_runner} (found on GitHub: {left.lost_found_on_github}); tasks {left.lost_tasks}",
        ),
    ]


def warm_summary(warm: WarmFacts) -> dict[str, Any]:
    return {
        "pool": warm.pool,
        "class": warm.class_name,
        "size": warm.size,
        "filled_by_janitor": warm.fill_added,
        "refilled": warm.refills,
        "idle_at_end": len(warm.idle_after),
        "job_start_latency_metrics": warm.latency_metrics,
        "starts": [asdict(start) for start in warm.starts],
    }


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
        "warm_pool": warm_summary(facts.warm) if facts.warm is not None else None,
        "no_job_left_behind": asdict(facts.left_behind) if facts.left_behind is not None else None,
        "runners_stats": facts.stats_lines,
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
    lines += warm_lines(data.get("warm_pool"))
    lines += left_behind_lines(data.get("no_job_left_behind"))
    medians = data["runner_stage_medians_seconds"]
    if medians:
        lines.append("runner stages (median over runners):")
        lines += [f"  {label:<44} {seconds:6.2f}s" for label, seconds in medians.items()]
    lines.append("demo stages:")
    lines += [
        f"  {s['name']:<44} {s['seconds']:6.1f}s{'' if s['ok'] else '  FAILED'}" for s in data["stages"]
    ]
    lines.append(f"  {'total wall time':<44} {data['wall_seconds']:6.1f}s")
    if data.get("runners_stats"):
        lines.append("python -m ecsrunner runners stats:")
        lines += [f"  {line}" for line in data["runners_stats"]]
    return lines


def left_behind_lines(left: dict[str, Any] | None) -> list[str]:
    if not left:
        return []
    indent = " " * 21  # under the text after the case name
    on_demand = "on-demand " if left["relaunch_on_demand"] else ""
    return [
        "no job left behind:",
        f"  Spot interruption  job {left['spot_job_id']} {labels_text(left['spot_labels'])}: "
        f"{left['spot_tasks']} tasks for it; ran on {_short(left['spot_ran_on'])}",
        f"{indent}the task of {_short(left['interrupted'])} stopped (SpotInterruption) before its runner "
        f"took the job; relaunched as an {on_demand}runner",
        f"  lost webhook       job {left['lost_job_id']} {labels_text(left['lost_labels'])}: "
        f"{left['lost_tasks']} task for it; ran on {_short(left['lost_runner'])}",
        f"{indent}{left['lost_deliveries']} queued deliveries; the janitor's reconciliation with GitHub "
        f"found it (jobs_reconciled {left['jobs_reconciled']})",
    ]


def _short(name: str | None) -> str:
    text = str(name or "-")
    return text[:26] + "…" if len(text) > 27 else text


def warm_lines(warm: dict[str, Any] | None) -> list[str]:
    """The warm hit next to the cold start."""
    if not warm:
        return []
    lines = [
        f"warm pool {warm['pool']!r} (class {warm['class']}, size {warm['size']}): "
        f"{warm['filled_by_janitor']} added by the janitor, {warm['refilled']} refill after the claim, "
        f"{warm['idle_at_end']} idle at the end",
        f"  {'start':<5} {'job':<52} {'tasks for it':<13} {'queued → in_progress':<21} "
        f"{'JobStartLatency':<16} runner",
    ]
    metrics: dict[str, list[float]] = warm["job_start_latency_metrics"]
    for start in warm["starts"]:
        job = f"{start['job_id']} {labels_text(start['labels'])}"
        latency = f"{start['latency_seconds']:.2f}s" if start["latency_seconds"] is not None else "-"
        points = metrics.get(start["start"]) or []
        metric = f"{points[-1]:.2f}s" if points else "-"  # this job's is the last of its kind
        runner = _short(start["runner"]) + (
            f" (pool {start['runner_pool']})" if start["runner_pool"] else " (launched for the job)"
        )
        tasks = start["tasks_for_job"]
        lines.append(f"  {start['start']:<5} {job:<52} {tasks:<13} {latency:<21} {metric:<16} {runner}")
    lines.append(
        "  JobStartLatency data points by then (the control plane's metric; "
        "GitHub's created_at has whole seconds): "
        + "; ".join(
            f"start={kind} " + ", ".join(f"{v:.2f}s" for v in values)
            for kind, values in sorted(metrics.items())
        )
    )
    return lines
