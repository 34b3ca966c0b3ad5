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

import heapq
import json
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ecsrunner_core.adapters.dynamodb_codec import deserialize, parse_time
from ecsrunner_core.adapters.dynamodb_store import DynamoDbStore
from ecsrunner_core.adapters.janitor_waker import JanitorWaker
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.context import Deadline
from ecsrunner_core.usecases.dispatch import handle_control_plane_event
from ecsrunner_core.usecases.janitor import resume_launches, run_janitor
from ecsrunner_core.wiring import Services
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn
from ecsrunner_sandbox.moto_patches import patched_server, patched_transactions
from ecsrunner_sandbox.moto_server import MotoServer
from moto import mock_aws
from moto.moto_api import state_manager

from .events import ecs_task_event, job_payload, webhook_event
from .lambda_host import FakeLambdaContext, warm_control_plane
from .markdown import command, ms, table
from .meters import AwsMeter
from .probe import github_kind
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
# RunTask to RUNNING on Fargate, cold (published range: see the warm-start section and its sources).
FARGATE_START_RANGE = (45.0, 90.0)
BURST_SECOND = 25  # the simulated clock starts this many seconds past a whole minute


def delivery_order(jobs: int, seed: int = 9) -> list[int]:
    """Job ids 1..jobs plus ``DUPLICATE_SHARE`` of them again, shuffled."""
    rng = random.Random(seed)
    ids = [7_100_000_000 + i for i in range(1, jobs + 1)]
    order = ids + rng.sample(ids, round(jobs * DUPLICATE_SHARE))
    rng.shuffle(order)
    return order


def _event(sandbox: Sandbox, job_id: int, queued_at: datetime | None = None) -> dict[str, Any]:
    payload = job_payload("queued", job_id=job_id, repository=REPOSITORY, queued_at=queued_at)
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
        # After the counts above: this adds jobs, a task and a JIT config of its own.
        result["stopped_event"] = _stopped_with_waiting(ctx, sandbox, items, jobs)
        result["standin_violations"] = list(standin.violations)
    return result


def _stopped_with_waiting(
    ctx: Context, sandbox: Sandbox, items: list[dict[str, Any]], jobs: int
) -> dict[str, Any]:
    """After the burst every runner is launched and STARTING. With ``max_runners`` at the number of
    active runners, more jobs wait for a slot; then one task STOPPED event (metered) frees a slot and
    launches one waiting runner. What it reads is the figure: not the STARTING partition."""
    waiting_jobs = max(jobs // 20, 3)
    settings = replace(sandbox.settings, max_runners=len(items))
    session = new_session()
    meter = AwsMeter(session)
    deps = Services(settings, session, github_budget_seconds=CONTROL_PLANE_GITHUB_BUDGET).deps()
    outcomes: Counter[str] = Counter()
    for _ in range(waiting_jobs):
        outcomes[_outcome(handle_control_plane_event(deps, _event(sandbox, sandbox.next_job_id())))] += 1
    store = deps.store
    waiting = sum(1 for record in store.waiting(datetime.now(UTC), page_size=100))
    starting = sum(1 for _ in store.by_status(RunnerStatus.STARTING))
    launched = next(item for item in items if item.get("task_arn"))
    event = ecs_task_event(
        cluster_arn=settings.cluster_arn,
        task_arn=str(launched["task_arn"]),
        last_status="STOPPED",
        started_by=str(launched["runner_name"]),
    )
    mark = meter.mark()
    response = handle_control_plane_event(deps, event)
    calls = meter.since(mark)
    queries = [c for c in calls if c.target == "dynamodb.Query"]
    waiting_after = sum(1 for record in store.waiting(datetime.now(UTC), page_size=100))
    result = {
        "outcome": response.get("action"),
        "starting": starting,
        "waiting_for_slot": waiting,
        "waiting_after": waiting_after,
        "queued_outcomes": dict(outcomes),
        "queries": len(queries),
        "items_read": sum(c.scanned or 0 for c in queries),
        "read_units": sum(c.read_units for c in calls),
        "aws_calls": len(calls),
        "run_task_calls": sum(1 for c in calls if c.target == "ecs.RunTask"),
    }
    ctx.log(
        f"burst A: STOPPED event with {starting} STARTING, {waiting} waiting for a slot: "
        f"{result['queries']} queries, {result['items_read']} items read"
    )
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
    kind: str  # "scheduled" (janitor_schedule_expression) or "wake-up" (end of a GitHub pause)
    started: float
    finished: float
    relaunched: int
    errors: int
    slept_seconds: float  # Clock.sleep: waiting out GitHub rate-limit pauses of a few seconds
    github_wait_seconds: float  # the GitHub client's own Retry-After sleeps (within its 20 s budget)
    jit_ok: int
    jit_limited: int
    pending_after: int  # runners still without a task when the run ended
    due_left: int  # of those, runners whose next attempt was due before the run ended


class _Scheduler:
    """The EventBridge Scheduler client the real ``JanitorWaker`` calls: keeps the one-time schedule."""

    def __init__(self) -> None:
        self.at: datetime | None = None
        self.requests = 0

    def update_schedule(self, **request: Any) -> None:
        expression = str(request["ScheduleExpression"])  # at(YYYY-MM-DDTHH:MM:SS), UTC
        self.at = datetime.fromisoformat(expression[3:-1]).replace(tzinfo=UTC)
        self.requests += 1

    create_schedule = update_schedule


class _Lambda:
    """The Lambda client the real ``JanitorWaker`` calls for ``wake_now`` (an asynchronous invoke)."""

    def __init__(self) -> None:
        self.invokes = 0

    def invoke(self, **_: Any) -> None:
        self.invokes += 1


def sim_waker() -> tuple[JanitorWaker, _Scheduler, _Lambda]:
    """The core's own waker (its whole-minute rounding included) on recording clients."""
    scheduler, invoker = _Scheduler(), _Lambda()
    waker = JanitorWaker(
        invoker,
        scheduler,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:ecsr-janitor",
        role_arn="arn:aws:iam::123456789012:role/ecsr-wakeup",
        schedule_name="ecsr-resume-launches",
    )
    return waker, scheduler, invoker


def fargate_start_seconds(index: int) -> float:
    """Modeled seconds from RunTask to the task's RUNNING event, spread over the published range."""
    rng = random.Random(1_000 + index)
    return rng.uniform(*FARGATE_START_RANGE)


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
    # The scheduler fires wake-ups on whole minutes: start the simulated clock on a fixed phase (the
    # burst arrives a few seconds after it, once the deployment is provisioned), so runs compare.
    sim = SimClock(datetime.now(UTC).replace(second=BURST_SECOND, microsecond=0))
    real_start = time.perf_counter()
    with GitHubStandIn(pat=DEFAULT_PAT, clock=sim.epoch, jit_ceiling_per_minute=per_minute) as standin:
        # No task reaches RUNNING in moto by itself (the simulation sends the RUNNING events) and none
        # stops: keep the STARTING timeout and the TTL from failing launched runners during the drain.
        sandbox = open_sandbox(standin, starting_timeout_seconds=86_400, runner_ttl_seconds=86_400)
        sandbox.push_default_image()
        session = new_session()
        meter = AwsMeter(session, clock=sim.elapsed)
        plane_clock, janitor_clock = RecordingClock(sim), RecordingClock(sim)
        plane_sleep, janitor_sleep = RecordingSleep(sim), RecordingSleep(sim)
        plane_metrics, janitor_metrics = CountingMetrics(), CountingMetrics()
        waker, scheduler, invoker = sim_waker()

        def github(budget: float, sleep: RecordingSleep) -> Any:
            return sandbox.github_client(
                budget_seconds=budget, sleep=sleep, monotonic=sim.monotonic, wall_clock=sim.epoch
            )

        def deps(
            clock: RecordingClock, budget: float, sleep: RecordingSleep, metrics: CountingMetrics
        ) -> Any:
            services = sandbox.services(
                session, clock=clock, github_client=github(budget, sleep), metrics=metrics
            )
            services.waker = waker  # the port, over the cached_property
            return services.deps()

        plane = deps(plane_clock, CONTROL_PLANE_GITHUB_BUDGET, plane_sleep, plane_metrics)
        janitor = deps(janitor_clock, JANITOR_GITHUB_BUDGET, janitor_sleep, janitor_metrics)
        checker = DynamoDbStore(new_session().client("dynamodb"), sandbox.settings.runner_table, sim)
        runs: list[JanitorRun] = []
        run_calls: Counter[str] = Counter()  # every remote call made by the janitor runs
        lost_to_lease: Counter[str] = Counter()
        busy_until = 0.0

        def janitor_run(kind: str) -> None:
            nonlocal busy_until
            started, slept, waited = sim.elapsed(), janitor_clock.slept, janitor_sleep.slept
            aws_mark, github_mark = meter.mark(), len(standin.calls)
            jit_mark = len(standin.calls_to("POST", GENERATE_JITCONFIG))
            deadline = Deadline.after(JANITOR_DEADLINE_SECONDS, sim.monotonic)
            report = (
                run_janitor(janitor, deadline) if kind == "scheduled" else resume_launches(janitor, deadline)
            )
            finished = busy_until = sim.elapsed()
            run_calls.update(call.target for call in meter.since(aws_mark))
            run_calls.update(github_kind(method, path) for method, path, _ in standin.calls[github_mark:])
            statuses = _jit_statuses(standin, jit_mark)
            pending, due = _pending(checker, sim.now())
            runs.append(
                JanitorRun(
                    kind,
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

        outcomes: Counter[str] = Counter()
        with sim.frozen():  # in AWS each delivery has its own Lambda: the burst is handled at once
            for job_id in order:
                event = _event(sandbox, job_id, sim.now())
                response = handle_control_plane_event(
                    plane, event, Deadline.after(WEBHOOK_DEADLINE_SECONDS, sim.monotonic)
                )
                outcomes[_outcome(response)] += 1
        deliveries_done = sim.elapsed()
        at_deliveries = _jit_statuses(standin)
        pending, _ = _pending(checker, sim.now())
        deferred = pending
        # Each launched task's RUNNING event reaches the control plane after a modeled Fargate start;
        # like every control-plane invocation it wakes the janitor once a pause has ended.
        task_events: list[tuple[float, str, str]] = []
        evented: set[str] = set()
        task_events_sent = 0
        wake_ups_now = 0

        def queue_task_events() -> None:
            for item in _runner_items(sandbox.settings.runner_table):
                name, task = str(item["runner_name"]), item.get("task_arn")
                if task and name not in evented:
                    evented.add(name)
                    started = parse_time(item.get("task_started_at")) or sim.now()
                    at = sim.elapsed() + (started - sim.now()).total_seconds()
                    heapq.heappush(task_events, (at + fargate_start_seconds(len(evented)), name, str(task)))

        queue_task_events()
        next_run = interval
        woken = invoker.invokes
        while pending and sim.elapsed() < SIMULATION_LIMIT_SECONDS:
            wake_at = (scheduler.at - sim.now()).total_seconds() + sim.elapsed() if scheduler.at else None
            candidates = [(next_run, "scheduled")]
            if wake_at is not None:
                candidates.append((wake_at, "wake-up"))
            if task_events:
                candidates.append((task_events[0][0], "task"))
            at, kind = min(candidates)
            sim.skip_to(at)
            if kind == "task":
                _, name, task = heapq.heappop(task_events)
                event = ecs_task_event(
                    cluster_arn=sandbox.settings.cluster_arn,
                    task_arn=task,
                    last_status="RUNNING",
                    started_by=name,
                )
                with sim.frozen():
                    handle_control_plane_event(plane, event)
                task_events_sent += 1
                if invoker.invokes == woken:
                    continue
                woken = invoker.invokes
                wake_ups_now += 1
                kind = "wake-up"  # the asynchronous invoke starts a janitor within a second or so
            elif kind == "wake-up":
                scheduler.at = None  # a one-time schedule, deleted once it fired
            else:
                next_run += interval
            if at < busy_until:
                lost_to_lease[kind] += 1  # another run held the lease: this one ended at once
                continue
            janitor_run(kind)
            queue_task_events()
            pending = runs[-1].pending_after
        launches = sorted(c.finished_at for c in meter.calls if c.target == "ecs.RunTask" and c.status == 200)
        janitor_aws_calls = sum(1 for c in meter.calls if c.finished_at > deliveries_done)
        janitor_jit = standin.calls_to("POST", GENERATE_JITCONFIG)[at_deliveries.total() :]
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
    # The first 403 came during the deliveries (the simulated time 0): the ceiling admits the launches
    # after it no sooner than one rolling minute per `per_minute` of them.
    earliest = earliest_drain(len(later), per_minute)
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
        # What the attempts those runners spent met (the record keeps its last error).
        "retried_errors": dict(
            Counter(
                str(item.get("last_error") or "none kept")[:100]
                for item in launched
                if int(item.get("attempts") or 0) > 0
            )
        ),
        "attempts_of_launched": {str(k): v for k, v in sorted(attempts.items())},
        "jit_calls_ok": statuses[201],
        "jit_calls_limited": statuses[403],
        "deliveries_jit_ok": at_deliveries[201],
        "deliveries_jit_limited": at_deliveries[403],
        "deferred_at_deliveries": deferred,
        "pauses_set": plane_metrics.counts["GitHubRateLimitPauses"]
        + janitor_metrics.counts["GitHubRateLimitPauses"],
        "control_plane_slept_seconds": plane_clock.slept + plane_sleep.slept,
        "janitor_jit_calls": len(janitor_jit),
        "janitor_aws_calls": janitor_aws_calls,
        "janitor_slept_seconds": sum(run.slept_seconds for run in runs),
        "janitor_run_calls": dict(run_calls),
        "janitor_run_launches": sum(run.relaunched for run in runs),
        "wake_up_schedules": scheduler.requests,
        "wake_ups_by_task_events": wake_ups_now,
        "task_events_sent": task_events_sent,
        "runs_lost_to_lease": dict(lost_to_lease),
        "deliveries_done_at": deliveries_done,
        "drain_seconds": drain,
        "drain_rate_per_minute": len(launches) / (drain / 60) if drain else 0.0,
        "drain_share_of_allowed": len(launches) / allowed(per_minute, drain),
        "after_first_403_launches": len(later),
        "after_first_403_seconds": drain - deliveries_done if later else 0.0,
        "after_first_403_earliest_seconds": earliest,
        "after_first_403_share_of_ceiling": (earliest / (drain - deliveries_done)) if later else 1.0,
        "janitor_launches": len(later),
        "janitor_drain_seconds": janitor_span,
        "janitor_drain_rate_per_minute": len(later) / (janitor_span / 60) if janitor_span else 0.0,
        "janitor_share_of_allowed": len(later) / allowed(per_minute, janitor_span) if later else 0.0,
        # The janitor's launches come in rounds, one per rolling minute.
        "launch_rounds": rounds,
        "wait_p50_seconds": percentile(launches, 50) if launches else 0.0,
        "half_launched_seconds": sorted(launches)[(jobs + 1) // 2 - 1] if len(launches) >= jobs else None,
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


def earliest_drain(launches: int, per_minute: int) -> float:
    """Seconds after a used-up rolling minute by which a ceiling of ``per_minute`` admits ``launches``."""
    return 60.0 * math.ceil(launches / per_minute) if launches else 0.0


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
    """Each janitor run: when it started, why, what it launched and how many 403s it met."""
    return "; ".join(
        f"{run['started'] / 60:.1f} min: {run['kind']}, {run['relaunched']} launched,"
        f" {run['jit_limited']} 403"
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
        ["rate-limit pauses set or extended", *[v["pauses_set"] for v in variants]],
        ["last launch (simulated)", *[_minutes(v["drain_seconds"]) for v in variants]],
        ["half the jobs launched by", *[_minutes(v["wait_p50_seconds"]) for v in variants]],
        [
            "from the first 403 to the last launch: launches, time (the ceiling's earliest; share)",
            *[
                f"{v['after_first_403_launches']:,} in {_minutes(v['after_first_403_seconds'])}"
                f" ({_minutes(v['after_first_403_earliest_seconds'])};"
                f" {v['after_first_403_share_of_ceiling']:.0%})"
                for v in variants
            ],
        ],
        [
            "drain, whole burst: launched per minute to the last launch (share of what the ceiling allows)",
            *[f"{v['drain_rate_per_minute']:.0f} /min ({v['drain_share_of_allowed']:.0%})" for v in variants],
        ],
        [
            "launch rounds after the first 403: launches each; mean length of the full ones",
            *[_rounds_cell(v) for v in variants],
        ],
        ["most launches in any 60 s", *[v["peak_per_minute"] for v in variants]],
        [
            "janitor runs: scheduled / woken (one-time schedule or a control-plane event after the pause)",
            *[
                f"{sum(1 for r in v['janitor_runs'] if r['kind'] == 'scheduled')}"
                f" / {sum(1 for r in v['janitor_runs'] if r['kind'] != 'scheduled')}"
                for v in variants
            ],
        ],
        [
            "wake-up schedules written / janitor woken by a task event",
            *[f"{v['wake_up_schedules']} / {v['wake_ups_by_task_events']}" for v in variants],
        ],
        [
            "runs that met the lease (another run in progress) and ended at once",
            *[sum(v["runs_lost_to_lease"].values()) for v in variants],
        ],
        [
            "janitor: slept through short pauses (total)",
            *[f"{v['janitor_slept_seconds']:.0f} s" for v in variants],
        ],
        ["each janitor run (start: kind, launched, 403s)", *[_runs_cell(v) for v in variants]],
        [
            "janitor: AWS calls / generate-jitconfig calls",
            *[f"{v['janitor_aws_calls']:,} / {v['janitor_jit_calls']:,}" for v in variants],
        ],
        [
            "task RUNNING events sent to the control plane",
            *[f"{v['task_events_sent']:,}" for v in variants],
        ],
        [
            "simulated / real seconds",
            *[f"{v['simulated_seconds']:.0f} / {v['real_seconds']:.0f}" for v in variants],
        ],
    ]
    stopped = a["stopped_event"]
    return f"""
{command("python -m bench.run --only burst" + quick)}

**Phase A: throughput** (moto server, the real Powertools handler in one warm container, deliveries one
after another; the GitHub stand-in without a ceiling):

{table(["", "value"], rows_a)}

{_phase_a_verdict(a)} The rate is one container's: API Gateway invokes one Lambda per delivery,
concurrently, so AWS drains a burst in parallel; moto's per-call latency (a single-process server on
this 2-core machine) sets this number, not AWS.

**One ECS STOPPED event during the burst.** With the {stopped["starting"]:,} runners of the burst
STARTING and `max_runners` set to the number of active runners, {stopped["waiting_for_slot"]} more jobs
were queued (they wait for a slot), then one launched runner's task STOPPED event was handled (the core,
metered): it made {stopped["queries"]} DynamoDB queries reading {stopped["items_read"]} items
({stopped["read_units"]:.1f} read units in all, {stopped["aws_calls"]} AWS calls) and launched
{stopped["run_task_calls"]} waiting runner ({stopped["waiting_after"]} still waiting). It reads the sparse
waiting index (only runners without a task are in it) one item per launch it may make, not the STARTING
partition.

**Phase B: GitHub's JIT ceiling** ({per_minute} generate-jitconfig calls per rolling minute, the stand-in's
`jit_ceiling_per_minute`; module defaults otherwise: `max_launch_attempts` 5, `launch_concurrency` 8,
control-plane GitHub budget 4 s, janitor budget 20 s and timeout 300 s, the janitor woken at the end of a
pause; the janitor on the default schedule, every 5 minutes, and on
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
each one has its own concurrent Lambda, so the whole burst reaches GitHub within seconds). When a launch
meets the ceiling, the core sets the deployment-wide pause and asks its waker (the real
`JanitorWaker`, on recording clients) for a one-time EventBridge Scheduler schedule at the first whole
minute at or after the pause's end; the simulation fires it then and runs `resume_launches` (the
janitor's wake-up path, `launch_concurrency` launches at once). Each launched task's RUNNING event
reaches the control plane (the core's `handle_control_plane_event`) {FARGATE_START_RANGE[0]:.0f} to
{FARGATE_START_RANGE[1]:.0f} s after its RunTask (spread evenly over the published range of a cold
Fargate start, see the warm-start section); the first control-plane invocation after a pause ended wakes
the janitor at once (`resume_after_pause`, an asynchronous invoke), as in AWS. Scheduled runs come every
interval, the first one interval after the burst. The janitor's work and the control plane's take their
real time on this machine (the control plane's as if concurrent), every wait is skipped; a run due while
another one holds the janitor lease (`LEASE#janitor`) ends at once, as it would in AWS. The burst arrives
{BURST_SECOND} s past a whole minute (the scheduler's wake-ups fall on whole minutes, so the phase matters
by up to a minute per round). No task stops and no workflow_job event arrives during the drain. The
store's 5 s cache of the pause item runs on real time. Because moto tasks never start by themselves, the
STARTING timeout and runner TTL are raised to a day; nothing else differs from the defaults. The janitor's
own speed here is moto's, not AWS's: see the modeled launch pace in the goal table.
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
        " launch to its end without calling GitHub. After that, runners are launched by janitor runs woken"
        " when the pause ends (or scheduled), several at once, until the ceiling answers 403 again: at most"
        " one 403 per launch in flight (`launch_concurrency`) per rolling minute used up, instead of one per"
        " waiting runner."
    )
    for v in variants:
        parts.append(
            f"With the janitor every {v['interval_seconds'] / 60:.0f} min half the {v['jobs']:,} jobs were"
            f" launched after {_minutes(v['wait_p50_seconds'])} and the last after"
            f" {_minutes(v['drain_seconds'])}; from the first 403 the ceiling could have admitted the"
            f" {v['after_first_403_launches']:,} later launches in"
            f" {_minutes(v['after_first_403_earliest_seconds'])} at the earliest, so the drain went at"
            f" {v['after_first_403_share_of_ceiling']:.0%} of the ceiling's pace."
        )
    parts.append(
        "The schedule no longer sets when the drain starts: a wake-up is due at the first whole minute"
        " after each pause, and a task event after the pause wakes the janitor sooner. What is left between"
        " the rounds is the wait for the next whole minute (the scheduler's granularity) when no"
        " control-plane event comes first."
    )
    return " ".join(parts)
