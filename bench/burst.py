"""2. Burst: 1,000 queued jobs plus 20 % duplicate deliveries, shuffled, against a moto server.

Phase A measures our throughput: one warm container (the real Powertools handler) takes the
deliveries one after another against a moto server and the GitHub stand-in, with no GitHub limit.

Phase B measures the drain under GitHub's ceiling on generate-jitconfig: the stand-in answers beyond
180 calls in any rolling 60 s with a secondary rate limit (403 + Retry-After), as GitHub documents for
its REST API (900 points per minute per endpoint, 5 points per POST). Real time would be > 5 minutes
per run, so the run uses :class:`bench.sim_clock.SimClock`: work takes its real time, waits are skipped
(Retry-After sleeps of the GitHub client, the gaps between janitor runs). Launches the control plane
cannot make inside its 4 s GitHub budget stay STARTING and the janitor retries them on its schedule.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ecsrunner_core.adapters.dynamodb_codec import deserialize
from ecsrunner_core.adapters.dynamodb_store import DynamoDbStore
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.context import Deadline
from ecsrunner_core.usecases.dispatch import handle_control_plane_event
from ecsrunner_core.usecases.janitor import run_janitor
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn
from ecsrunner_sandbox.moto_server import MotoServer
from moto import mock_aws
from moto.moto_api import state_manager

from .events import job_payload, webhook_event
from .lambda_host import FakeLambdaContext, warm_control_plane
from .markdown import command, ms, table
from .meters import AwsMeter
from .moto_patches import patched_server, patched_transactions
from .report import Context, Section
from .sandbox import REPOSITORY, Sandbox, aws_environment, new_session, open_sandbox
from .sim_clock import SimClock
from .stats import percentile

NAME = "burst"
TITLE = "Burst: 1,000 queued jobs"
DUPLICATE_SHARE = 0.20
JIT_CEILING_PER_MINUTE = 180
WEBHOOK_DEADLINE_SECONDS = 8.0
CONTROL_PLANE_GITHUB_BUDGET = 4.0  # ecsrunner_lambda.control_plane
JANITOR_GITHUB_BUDGET = 20.0  # ecsrunner_lambda.janitor
JANITOR_DEADLINE_SECONDS = 297.0  # janitor_timeout 300 s - runtime.SAFETY_MARGIN_SECONDS
SIMULATION_LIMIT_SECONDS = 3 * 3600.0
GENERATE_JITCONFIG = "/actions/runners/generate-jitconfig"
ROUND_GAP_SECONDS = 10.0  # launches further apart than this were separated by a pause


def delivery_order(jobs: int, seed: int = 9) -> list[int]:
    """Job ids 1..jobs plus ``DUPLICATE_SHARE`` of them again, shuffled."""
    rng = random.Random(seed)
    ids = [7_100_000_000 + i for i in range(1, jobs + 1)]
    order = ids + rng.sample(ids, round(jobs * DUPLICATE_SHARE))
    rng.shuffle(order)
    return order


def _event(sandbox: Sandbox, job_id: int) -> dict[str, Any]:
    payload = job_payload("queued", job_id=job_id, repository=REPOSITORY)
    return webhook_event(payload, secret=sandbox.deployment.webhook_secret, delivery=sandbox.next_delivery())


def _outcome(response: dict[str, Any]) -> str:
    return str(json.loads(response["body"]).get("outcome", f"http {response['statusCode']}"))


def _runner_items(table: str) -> list[dict[str, Any]]:
    """Every runner record, read on an unmetered session."""
    db = new_session().client("dynamodb")
    pages = db.get_paginator("scan").paginate(TableName=table)
    items = [deserialize(item) for page in pages for item in page["Items"]]
    return [item for item in items if str(item["pk"]).startswith("RUNNER#")]


def _ecs_tasks(cluster: str) -> int:
    ecs = new_session().client("ecs")
    return sum(len(page["taskArns"]) for page in ecs.get_paginator("list_tasks").paginate(cluster=cluster))


# --- phase A: throughput ------------------------------------------------------------------------


def _throughput(ctx: Context, server: MotoServer, jobs: int) -> dict[str, Any]:
    order = delivery_order(jobs)
    with GitHubStandIn(pat=DEFAULT_PAT) as standin:
        sandbox = open_sandbox(standin, server.endpoint_url)
        sandbox.push_default_image()
        session = new_session()
        meter = AwsMeter(session)
        outcomes: Counter[str] = Counter()
        durations: list[float] = []
        context = FakeLambdaContext()
        with warm_control_plane(sandbox.settings, session, CONTROL_PLANE_GITHUB_BUDGET) as (handler, _):
            started = time.perf_counter()
            for job_id in order:
                event = _event(sandbox, job_id)
                begin = time.perf_counter()
                outcomes[_outcome(handler(event, context))] += 1
                durations.append(time.perf_counter() - begin)
            wall = time.perf_counter() - started
        run_tasks = [c for c in meter.calls if c.target == "ecs.RunTask" and c.status == 200]
        items = _runner_items(sandbox.settings.runner_table)
        result = {
            "deliveries": len(order),
            "jobs": jobs,
            "outcomes": dict(outcomes),
            "run_task_calls": len(run_tasks),
            "ecs_tasks": _ecs_tasks(sandbox.settings.cluster_arn),
            "runner_records": len(items),
            "launched_records": sum(1 for item in items if item.get("task_arn")),
            "jit_calls": len(standin.calls_to("POST", GENERATE_JITCONFIG)),
            "wall_seconds": wall,
            "deliveries_per_second": len(order) / wall,
            "jobs_per_second": jobs / wall,
            "p50_seconds": percentile(durations, 50),
            "p99_seconds": percentile(durations, 99),
            "standin_violations": list(standin.violations),
        }
    ctx.log(f"burst A: {result['deliveries']} deliveries in {wall:.1f}s")
    return result


# --- phase B: the JIT ceiling -------------------------------------------------------------------


class RecordingClock:
    """The core's ``Clock`` on the simulated clock, keeping what it slept (the GitHub pause waits)."""

    def __init__(self, sim: SimClock) -> None:
        self._sim = sim
        self.slept = 0.0

    def now(self) -> datetime:
        return self._sim.now()

    def sleep(self, seconds: float) -> None:
        self.slept += max(seconds, 0.0)
        self._sim.sleep(seconds)


class RecordingSleep:
    """The GitHub client's sleep (Retry-After within its budget) on the simulated clock."""

    def __init__(self, sim: SimClock) -> None:
        self._sim = sim
        self.slept = 0.0

    def __call__(self, seconds: float) -> None:
        self.slept += max(seconds, 0.0)
        self._sim.sleep(seconds)


class CountingMetrics:
    """The core's ``Metrics`` port, counting (``GitHubRateLimitPauses``: pauses set or extended)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        self.counts[name] += value

    def seconds(self, name: str, value: float, **dimensions: str) -> None:
        return None


@dataclass
class JanitorRun:
    started: float
    finished: float
    relaunched: int
    errors: int
    slept_seconds: float  # Clock.sleep: waiting out GitHub rate-limit pauses
    github_wait_seconds: float  # the GitHub client's own Retry-After sleeps (within its 20 s budget)
    jit_ok: int
    jit_limited: int
    pending_after: int  # runners still without a task when the run ended
    due_left: int  # of those, runners whose next attempt was due before the run ended


def _pending(store: DynamoDbStore, now: datetime) -> tuple[int, int]:
    """Runners still waiting for a launch (STARTING without a task), and how many of them were due."""
    waiting = [record for record in store.by_status(RunnerStatus.STARTING) if not record.task_arn]
    due = sum(1 for record in waiting if record.next_attempt_at is None or record.next_attempt_at <= now)
    return len(waiting), due


def _jit_statuses(standin: GitHubStandIn, since: int = 0) -> Counter[int]:
    return Counter(call[2] for call in standin.calls_to("POST", GENERATE_JITCONFIG)[since:])


def _ceiling(ctx: Context, jobs: int, per_minute: int, interval: float) -> dict[str, Any]:
    """One simulated drain on in-process moto (``mock_aws`` must be active)."""
    order = delivery_order(jobs)
    sim = SimClock(datetime.now(UTC))
    real_start = time.perf_counter()
    with GitHubStandIn(pat=DEFAULT_PAT, clock=sim.epoch, jit_ceiling_per_minute=per_minute) as standin:
        # No task ever reaches RUNNING in moto (no ECS events): keep the STARTING timeout and the TTL
        # from failing launched runners while the simulated drain runs.
        sandbox = open_sandbox(standin, starting_timeout_seconds=86_400, runner_ttl_seconds=86_400)
        sandbox.push_default_image()
        session = new_session()
        meter = AwsMeter(session, clock=sim.elapsed)
        plane_clock, janitor_clock = RecordingClock(sim), RecordingClock(sim)
        plane_sleep, janitor_sleep = RecordingSleep(sim), RecordingSleep(sim)
        plane_metrics, janitor_metrics = CountingMetrics(), CountingMetrics()

        def github(budget: float, sleep: RecordingSleep) -> Any:
            return sandbox.github_client(
                budget_seconds=budget, sleep=sleep, monotonic=sim.monotonic, wall_clock=sim.epoch
            )

        plane = sandbox.services(
            session,
            clock=plane_clock,
            github_client=github(CONTROL_PLANE_GITHUB_BUDGET, plane_sleep),
            metrics=plane_metrics,
        ).deps()
        janitor = sandbox.services(
            session,
            clock=janitor_clock,
            github_client=github(JANITOR_GITHUB_BUDGET, janitor_sleep),
            metrics=janitor_metrics,
        ).deps()
        checker = DynamoDbStore(new_session().client("dynamodb"), sandbox.settings.runner_table, sim)
        runs: list[JanitorRun] = []
        next_run = interval

        def janitor_run() -> int:
            nonlocal next_run
            started, slept, waited = sim.elapsed(), janitor_clock.slept, janitor_sleep.slept
            jit_mark = len(standin.calls_to("POST", GENERATE_JITCONFIG))
            report = run_janitor(janitor, Deadline.after(JANITOR_DEADLINE_SECONDS, sim.monotonic))
            finished = sim.elapsed()
            statuses = _jit_statuses(standin, jit_mark)
            pending, due = _pending(checker, sim.now())
            runs.append(
                JanitorRun(
                    started,
                    finished,
                    report.relaunched,
                    len(report.errors),
                    janitor_clock.slept - slept,
                    janitor_sleep.slept - waited,
                    statuses[201],
                    statuses[403],
                    pending,
                    due,
                )
            )
            next_run = max(next_run + interval, sim.elapsed())
            return pending

        outcomes: Counter[str] = Counter()
        with sim.frozen():  # in AWS each delivery has its own Lambda: the burst is handled at once
            for job_id in order:
                response = handle_control_plane_event(
                    plane, _event(sandbox, job_id), Deadline.after(WEBHOOK_DEADLINE_SECONDS, sim.monotonic)
                )
                outcomes[_outcome(response)] += 1
        deliveries_done = sim.elapsed()
        at_deliveries = _jit_statuses(standin)
        pending, _ = _pending(checker, sim.now())
        deferred = pending
        while pending and sim.elapsed() < SIMULATION_LIMIT_SECONDS:
            sim.skip_to(next_run)
            pending = janitor_run()
        launches = sorted(c.finished_at for c in meter.calls if c.target == "ecs.RunTask" and c.status == 200)
        janitor_aws_calls = sum(1 for c in meter.calls if c.finished_at > deliveries_done)
        statuses = _jit_statuses(standin)
        items = _runner_items(sandbox.settings.runner_table)
        violations = list(standin.violations)
    launched = [item for item in items if item.get("task_arn")]
    failed = [item for item in items if item.get("status") == RunnerStatus.FAILED.value]
    attempts = Counter(int(item.get("attempts") or 0) for item in launched)
    drain = launches[-1] if launches else 0.0
    later = [t for t in launches if t > deliveries_done]
    janitor_span = (later[-1] - runs[0].started) if later and runs else 0.0
    rounds = launch_rounds(later)
    result = {
        "interval_seconds": interval,
        "ceiling_per_minute": per_minute,
        "jobs": jobs,
        "deliveries": len(order),
        "outcomes": dict(outcomes),
        "launched": len(launched),
        "run_task_calls": len(launches),
        "failed": len(failed),
        "failed_reasons": dict(Counter(str(item.get("status_reason", ""))[:60] for item in failed)),
        "launched_after_retries": sum(n for a, n in attempts.items() if a > 0),
        "attempts_of_launched": {str(k): v for k, v in sorted(attempts.items())},
        "jit_calls_ok": statuses[201],
        "jit_calls_limited": statuses[403],
        "deliveries_jit_ok": at_deliveries[201],
        "deliveries_jit_limited": at_deliveries[403],
        "deferred_at_deliveries": deferred,
        "pauses_set": plane_metrics.counts["GitHubRateLimitPauses"]
        + janitor_metrics.counts["GitHubRateLimitPauses"],
        "control_plane_slept_seconds": plane_clock.slept + plane_sleep.slept,
        "janitor_jit_calls": statuses.total() - at_deliveries.total(),
        "janitor_aws_calls": janitor_aws_calls,
        "janitor_slept_seconds": sum(run.slept_seconds for run in runs),
        "deliveries_done_at": deliveries_done,
        "drain_seconds": drain,
        "drain_rate_per_minute": len(launches) / (drain / 60) if drain else 0.0,
        "drain_share_of_allowed": len(launches) / allowed(per_minute, drain),
        "janitor_launches": len(later),
        "janitor_drain_seconds": janitor_span,
        "janitor_drain_rate_per_minute": len(later) / (janitor_span / 60) if janitor_span else 0.0,
        "janitor_share_of_allowed": len(later) / allowed(per_minute, janitor_span) if later else 0.0,
        # The janitor's launches come in rounds, one per rolling minute: its length is the time a pause
        # that starts at the 403 (the round's end) adds to what the ceiling needs (the round's start).
        "launch_rounds": rounds,
        "wait_p50_seconds": percentile(launches, 50) if launches else 0.0,
        "peak_per_minute": _peak_per_window(launches, 60.0),
        "janitor_runs": [run.__dict__ for run in runs],
        "launch_times": launches,
        "simulated_seconds": sim.elapsed(),
        "skipped_seconds": sim.skipped,
        "real_seconds": time.perf_counter() - real_start,
        "standin_violations": violations,
    }
    ctx.log(
        f"burst B (janitor every {interval:.0f}s): {result['launched']} launched, {result['failed']} failed, "
        f"{result['jit_calls_limited']} answered 403, {len(runs)} janitor runs, "
        f"{result['simulated_seconds']:.0f}s simulated in {result['real_seconds']:.0f}s"
    )
    return result


def allowed(per_minute: int, span: float) -> int:
    """The most launches a ceiling of ``per_minute`` per rolling 60 s admits within ``span`` seconds."""
    return per_minute * (int(span // 60) + 1)


def launch_rounds(times: list[float], gap: float = ROUND_GAP_SECONDS) -> list[dict[str, float]]:
    """Launches in bursts separated by more than ``gap`` seconds (a pause): start, end, how many."""
    rounds: list[dict[str, float]] = []
    for at in times:
        if rounds and at - rounds[-1]["end"] <= gap:
            rounds[-1]["end"] = at
            rounds[-1]["launched"] += 1
        else:
            rounds.append({"start": at, "end": at, "launched": 1})
    return rounds


def _peak_per_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, value in enumerate(times):
        while value - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def _plot(path: Path, variants: list[dict[str, Any]], per_minute: int) -> Path:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(9, 5))
    horizon = max(v["simulated_seconds"] for v in variants) / 60
    minutes = [i / 10 for i in range(int(horizon * 10) + 2)]
    axes.step(
        minutes,
        [per_minute * (int(m) + 1) for m in minutes],
        where="post",
        color="grey",
        linestyle="--",
        label=f"ceiling: {per_minute} JIT configs per rolling minute",
    )
    for index, variant in enumerate(variants):
        color = f"C{index}"
        times = [t / 60 for t in variant["launch_times"]]
        label = f"launched, janitor every {variant['interval_seconds'] / 60:.0f} min"
        axes.step(times, range(1, len(times) + 1), where="post", color=color, label=label)
        for run in variant["janitor_runs"]:
            axes.axvspan(run["started"] / 60, run["finished"] / 60, color=color, alpha=0.08, linewidth=0)
    axes.axhline(
        variants[0]["jobs"], color="black", linewidth=0.8, label=f"{variants[0]['jobs']} jobs queued"
    )
    axes.set_xlabel("simulated minutes since the burst (waits skipped, work in real time)")
    axes.set_ylabel("runners launched (RunTask succeeded)")
    axes.set_ylim(0, variants[0]["jobs"] * 1.1)
    axes.set_xlim(0, horizon)
    axes.legend(loc="lower right", fontsize="small")
    axes.set_title("Burst drain under GitHub's generate-jitconfig ceiling (shaded: janitor runs)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def run(ctx: Context) -> Section:
    jobs = ctx.size(1000, 30)
    per_minute = JIT_CEILING_PER_MINUTE if not ctx.quick else 10
    # janitor_schedule_expression: the default rate(5 minutes), and rate(1 minute).
    intervals = [300.0, 60.0]
    with patched_server() as server, aws_environment(server.endpoint_url):
        throughput = _throughput(ctx, server, jobs)
    variants = []
    for interval in intervals:
        with aws_environment(), mock_aws(), patched_transactions():
            state_manager.set_transition(
                model_name="ecs::task", transition={"progression": "manual", "times": 1_000_000}
            )
            variants.append(_ceiling(ctx, jobs, per_minute, interval))
    plot = _plot(ctx.plots_dir / "burst.png", variants, per_minute)
    data = {"throughput": throughput, "ceiling": variants}
    ctx.results[NAME] = data
    body = _body(ctx, throughput, variants, per_minute, plot)
    return Section(NAME, TITLE, body, data, [plot])


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def _rounds_cell(v: dict[str, Any]) -> str:
    """Launches per round; how long the full rounds (a whole rolling minute's worth) took."""
    rounds = v["launch_rounds"]
    if not rounds:
        return "-"
    counts = ", ".join(str(int(r["launched"])) for r in rounds)
    full = [r["end"] - r["start"] for r in rounds if r["launched"] >= v["ceiling_per_minute"]]
    return f"{counts}; {sum(full) / len(full):.1f} s" if full else counts


def _runs_cell(v: dict[str, Any]) -> str:
    """Each janitor run: when it started, what it launched and how long it slept through pauses."""
    return "; ".join(
        f"{run['started'] / 60:.0f} min: {run['relaunched']} launched, slept {run['slept_seconds']:.0f} s"
        for run in v["janitor_runs"]
    )


def _body(
    ctx: Context, a: dict[str, Any], variants: list[dict[str, Any]], per_minute: int, plot: Path
) -> str:
    quick = " --quick" if ctx.quick else ""
    rows_a = [
        [
            "deliveries (jobs + duplicates, shuffled)",
            f"{a['deliveries']:,} ({a['jobs']:,} + {a['deliveries'] - a['jobs']:,})",
        ],
        ["accepted (runner created)", a["outcomes"].get("accepted", 0)],
        ["duplicates recognised", a["outcomes"].get("duplicate", 0)],
        [
            "RunTask calls / ECS tasks / runner records",
            f"{a['run_task_calls']:,} / {a['ecs_tasks']:,} / {a['runner_records']:,}",
        ],
        ["generate-jitconfig calls", a["jit_calls"]],
        ["wall time", f"{a['wall_seconds']:.1f} s"],
        ["jobs per second (one warm container)", f"{a['jobs_per_second']:.1f}"],
        ["deliveries per second", f"{a['deliveries_per_second']:.1f}"],
        ["per delivery p50 / p99", f"{ms(a['p50_seconds'])} / {ms(a['p99_seconds'])}"],
    ]
    headers = ["", *[f"janitor every {v['interval_seconds'] / 60:.0f} min" for v in variants]]
    rows_b = [
        [
            "runners launched / RunTask calls / FAILED",
            *[f"{v['launched']:,} / {v['run_task_calls']:,} / {v['failed']:,}" for v in variants],
        ],
        ["launched after a failed attempt", *[v["launched_after_retries"] for v in variants]],
        [
            "generate-jitconfig: 201 / 403 (ceiling)",
            *[f"{v['jit_calls_ok']:,} / {v['jit_calls_limited']:,}" for v in variants],
        ],
        [
            "deliveries: launched / 403 / deferred by the pause (no GitHub call)",
            *[
                f"{v['deliveries_jit_ok']:,} / {v['deliveries_jit_limited']:,}"
                f" / {v['deferred_at_deliveries'] - v['deliveries_jit_limited']:,}"
                for v in variants
            ],
        ],
        ["rate-limit pauses set", *[v["pauses_set"] for v in variants]],
        ["last launch (simulated)", *[_minutes(v["drain_seconds"]) for v in variants]],
        ["half the jobs launched by", *[_minutes(v["wait_p50_seconds"]) for v in variants]],
        [
            "drain, whole burst: launched per minute to the last launch (share of what the ceiling allows)",
            *[f"{v['drain_rate_per_minute']:.0f} /min ({v['drain_share_of_allowed']:.0%})" for v in variants],
        ],
        [
            "drain from the janitor's first run to the last launch (share of what the ceiling allows)",
            *[
                f"{v['janitor_drain_rate_per_minute']:.0f} /min ({v['janitor_share_of_allowed']:.0%})"
                for v in variants
            ],
        ],
        [
            "janitor launch rounds: launches each; mean length of the full ones",
            *[_rounds_cell(v) for v in variants],
        ],
        ["most launches in any 60 s", *[v["peak_per_minute"] for v in variants]],
        ["janitor runs", *[len(v["janitor_runs"]) for v in variants]],
        [
            "runners a run left due (passed before a pause it slept through)",
            *[", ".join(str(run["due_left"]) for run in v["janitor_runs"]) for v in variants],
        ],
        [
            "janitor: slept through pauses (total)",
            *[f"{v['janitor_slept_seconds']:.0f} s" for v in variants],
        ],
        ["each janitor run (start: launched, slept)", *[_runs_cell(v) for v in variants]],
        [
            "janitor: AWS calls / generate-jitconfig calls",
            *[f"{v['janitor_aws_calls']:,} / {v['janitor_jit_calls']:,}" for v in variants],
        ],
        [
            "simulated / real seconds",
            *[f"{v['simulated_seconds']:.0f} / {v['real_seconds']:.0f}" for v in variants],
        ],
    ]
    return f"""
{command("python -m bench.run --only burst" + quick)}

**Phase A: throughput** (moto server, the real Powertools handler in one warm container, deliveries one
after another; the GitHub stand-in without a ceiling):

{table(["", "value"], rows_a)}

{_phase_a_verdict(a)} The rate is one container's: API Gateway invokes one Lambda per delivery,
concurrently, so AWS drains a burst in parallel; moto's per-call latency (a single-process server on
this 2-core machine) sets this number, not AWS.

**Phase B: GitHub's JIT ceiling** ({per_minute} generate-jitconfig calls per rolling minute, the stand-in's
`jit_ceiling_per_minute`; module defaults otherwise: `max_launch_attempts` 5, control-plane GitHub budget
4 s, janitor budget 20 s and timeout 300 s; the janitor on the default schedule, every 5 minutes, and on
`janitor_schedule_expression = "rate(1 minute)"`). The ceiling is GitHub's documented secondary rate limit
for one REST endpoint, 900 points per minute with 5 points per POST
(https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api, read 2026-11-23); GitHub
also documents 1,500 runner registrations per 5 minutes per repository or organization
(https://docs.github.com/en/actions/reference/limits), which is looser.

{table(headers, rows_b)}

![launched over time against the ceiling](bench/{plot.name})

{_phase_b_verdict(variants)}

How it was simulated (in-process moto, the same core and stand-in): one shared simulated clock, read by
the core, the GitHub client and the stand-in's limiter. The deliveries take no simulated time (in AWS
each one has its own concurrent Lambda, so the whole burst reaches GitHub within seconds); the janitor
runs one Lambda at a time and its work takes its real time on this machine, while every wait (the
janitor's `Clock.sleep` through a pause, the GitHub client's Retry-After sleeps, the gap until the next
scheduled run, first run one interval after the burst) is skipped. A run still going when the next one is
due delays it (one janitor at a time): the module sets no reserved concurrency, so in AWS a
`rate(1 minute)` janitor that sleeps through a pause overlaps the next runs; they wait for the same pause
and share the launches (the launch lease keeps each runner to one launch), so the drain stays bounded by
the ceiling, but each sleeping run is billed for its duration. No ECS or workflow_job events reach the
control plane here; in AWS every stopped task and completed job also launches one waiting runner
(`launch_waiting(limit=1)`), which adds to the janitor's drain. The store's 5 s cache of the pause item
runs on real time; only the core itself sets the pause here, so that does not change the figures. Because
moto tasks never start, the STARTING timeout and runner TTL are raised to a day so that the janitor does not
fail launched runners; nothing else differs from the defaults. The janitor's own speed here is moto's, not
AWS's (on AWS a launch is a GitHub round trip plus a RunTask, a few hundred ms, so one janitor run can
launch at most a few per second).
"""


def _phase_a_verdict(a: dict[str, Any]) -> str:
    jobs, duplicates = a["jobs"], a["deliveries"] - a["jobs"]
    exact = (
        a["outcomes"].get("accepted") == jobs
        and a["outcomes"].get("duplicate") == duplicates
        and a["run_task_calls"] == a["ecs_tasks"] == a["runner_records"] == a["jit_calls"] == jobs
    )
    if exact:
        return (
            "Every job got exactly one runner, one JIT config and one task; every duplicate was recognised."
        )
    return "**Not every job got exactly one runner and task: see the counts above.**"


def _phase_b_verdict(variants: list[dict[str, Any]]) -> str:
    parts = []
    exact = all(
        v["launched"] == v["run_task_calls"] == v["jit_calls_ok"] == v["jobs"] and not v["failed"]
        for v in variants
    )
    if exact:
        parts.append(
            "Every job was launched exactly once (one JIT config, one RunTask), none FAILED, and no launch"
            " attempt was spent on the rate limit."
        )
    else:
        parts.append("**Not every job was launched exactly once: see the counts above.**")
    first = variants[0]
    parts.append(
        f"During the deliveries the first {first['deliveries_jit_ok']:,} launches used up the rolling minute;"
        f" the next one was answered 403 and set the deployment-wide pause, and the other"
        f" {first['deferred_at_deliveries'] - first['deliveries_jit_limited']:,} deliveries deferred their"
        " launch to its end without calling GitHub. After that, runners are launched only by the janitor,"
        " which sleeps through each pause that ends within its run and then launches until the ceiling"
        " answers 403 again: one 403 per rolling minute used up, instead of one per waiting runner."
    )
    for v in variants:
        parts.append(
            f"With the janitor every {v['interval_seconds'] / 60:.0f} min the last of the {v['jobs']:,} jobs"
            f" was launched after {_minutes(v['drain_seconds'])}, {v['drain_share_of_allowed']:.0%} of the"
            f" launches the ceiling allows in that time ({v['janitor_share_of_allowed']:.0%} from the"
            " janitor's first run on)."
        )
    parts.append(
        "The schedule now sets when the drain starts: the runners deferred during the burst wait for the"
        " first janitor run, one interval after the burst, although the pause ended after a minute. Once"
        " started, a run launches a round per rolling minute and sleeps through each pause that ends before"
        " its 300 s timeout. A pause lasts at least 60 s from the 403, which comes at the end of a round,"
        " while the ceiling admits calls again 60 s after the round's first call (the stand-in's Retry-After"
        " says so): each round adds its own length to the drain."
    )
    left = sum(run["due_left"] for v in variants for run in v["janitor_runs"])
    parts.append(
        f"{left:,} runners whose launch met a 403 inside a run were left for the next run (the row above;"
        " see Findings)."
        if left
        else "A runner whose launch met a 403 inside a run is launched by the same run after the pause"
        " (none left for the next run: the row above)."
    )
    return " ".join(parts)
