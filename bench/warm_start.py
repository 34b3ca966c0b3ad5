"""2. Queued to started: warm pools (issue 16) against cold starts.

A deployment with one warm pool (``Settings.warm_pools``) on in-process moto and the GitHub stand-in.
The janitor fills the pool (``run_janitor``), the pool's tasks reach RUNNING and their runners come
online on the stand-in; then jobs are queued on the stand-in one after another. The first ones are
claimed from the pool (warm hits), the rest get a runner of their own (cold starts, the pool being
empty: its refills are still starting). GitHub hands each job to its runner (the stand-in's runner
simulator) and the ``in_progress`` webhook reaches the control plane, which publishes
``JobStartLatency`` (start=warm|cold): that metric, measured here, is the figure.

What the sandbox cannot show is added from a model, each part named in the document: the remote
calls at the cost model's assumed AWS and GitHub latencies (instead of the emulators' time), a
Fargate start for a cold runner from published measurements, and GitHub's hand-over of the job.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import boto3
from ecsrunner_core.domain.classes import DEFAULT_CLASS_SIZES
from ecsrunner_core.domain.pools import pools_from_json
from ecsrunner_core.usecases.context import Deadline, Deps
from ecsrunner_core.usecases.dispatch import handle_control_plane_event
from ecsrunner_core.usecases.janitor import run_janitor
from ecsrunner_core.usecases.launch import JIT_ENV_VAR
from ecsrunner_sandbox.github_runner_sim import RunnerSimulator
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn
from ecsrunner_sandbox.moto_patches import patched_transactions
from moto import mock_aws
from moto.moto_api import state_manager

from .cost_model import (
    ASSUMED_GITHUB_HANDOVER_SECONDS,
    FARGATE_COLD_START_SECONDS,
    FARGATE_SOURCES,
    modeled_remote_seconds,
    pool_idle_per_day,
)
from .events import OUR_LABELS, ecs_task_event, webhook_event
from .markdown import command, money, table
from .meters import AwsMeter, GitHubMeter
from .probe import Measurement, Probe
from .report import Context, Section
from .sandbox import REPOSITORY, Sandbox, aws_environment, new_session, open_sandbox
from .stats import percentile

NAME = "warm-start"
TITLE = "Queued to started: warm pools and cold starts"
POOL = "medium"
WARM_WITH = "warm runner from pool"
JANITOR_DEADLINE_SECONDS = 297.0
WEBHOOK_DEADLINE_SECONDS = 8.0
CLAIMS_PER_RUNNER_DAY = (1, 8, 24, 96)


class TimingMetrics:
    """The core's ``Metrics`` port, keeping its timings (``JobStartLatency`` and its dimensions)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.timings: list[tuple[str, float, dict[str, str]]] = []

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        self.counts[name] += value

    def seconds(self, name: str, value: float, **dimensions: str) -> None:
        self.timings.append((name, value, dict(dimensions)))


def _jit_config(sandbox: Sandbox, s3: Any, runner_name: str, key: str) -> str:
    body = s3.get_object(Bucket=sandbox.settings.jit_bucket, Key=key)["Body"].read().decode()
    name, _, value = body.rstrip("\n").partition("=")
    assert name == JIT_ENV_VAR, (runner_name, name)
    return str(value)


class _Fleet:
    """The deployment, the stand-in's runner simulator and the metered control plane."""

    def __init__(
        self, sandbox: Sandbox, standin: GitHubStandIn, probe: Probe, metrics: TimingMetrics
    ) -> None:
        self.sandbox, self.probe, self.metrics = sandbox, probe, metrics
        self.services = sandbox.services(probe.session, metrics=metrics)
        self.deps: Deps = self.services.deps()
        self.github = RunnerSimulator(standin.state)
        self.s3 = new_session().client("s3")

    def webhook(self, payload: dict[str, Any]) -> Measurement:
        event = webhook_event(
            payload, secret=self.sandbox.deployment.webhook_secret, delivery=self.sandbox.next_delivery()
        )
        return self.probe.call(
            lambda: handle_control_plane_event(self.deps, event, Deadline.after(WEBHOOK_DEADLINE_SECONDS))
        )

    def task_running(self, runner_name: str) -> Measurement:
        """The runner connects to GitHub (with the JIT config its task read) and the task's RUNNING
        event reaches the control plane (which then deletes the JIT object)."""
        record = self.deps.store.get(runner_name)
        assert record is not None and record.task_arn and record.github_runner_id, record
        self.github.runner_online(
            _jit_config(self.sandbox, self.s3, runner_name, self.services.jit.key(runner_name))
        )
        event = ecs_task_event(
            cluster_arn=self.sandbox.settings.cluster_arn,
            task_arn=record.task_arn,
            last_status="RUNNING",
            started_by=runner_name,
        )
        return self.probe.call(lambda: handle_control_plane_event(self.deps, event))

    def job(self) -> dict[str, Any]:
        """One job from queued to in_progress; the invocations on its path and the core's latency."""
        job = self.github.queue_job(REPOSITORY, list(OUR_LABELS))
        queued = self.webhook(self.github.payload(job, "queued"))
        answer = json.loads(queued.result["body"])
        assert answer["outcome"] == "accepted", answer
        warm = str(answer.get("detail", "")).startswith(WARM_WITH)
        path = [queued]
        if not warm:
            path.append(self.task_running(answer["runner"]))
        record = self.deps.store.get(answer["runner"])
        assert record is not None and record.github_runner_id is not None, record
        assigned = self.github.assign_job(record.github_runner_id)
        assert assigned is not None and assigned.id == job.id, (assigned, job.id)
        marks = len(self.metrics.timings)
        path.append(self.webhook(self.github.payload(assigned, "in_progress")))
        latency = [t for t in self.metrics.timings[marks:] if t[0] == "JobStartLatency"]
        assert len(latency) == 1, latency
        _, seconds, dimensions = latency[0]
        return {
            "start": dimensions.get("start"),
            "warm_hit": warm,
            "measured_seconds": seconds,
            "emulator_seconds": sum(m.remote_seconds for m in path),
            "modeled_remote_seconds": sum(modeled_remote_seconds(m.counts()) for m in path),
            "queued_aws_calls": len(queued.aws),
            "queued_github_calls": len(queued.github_calls),
            "queued_counts": dict(queued.counts()),
        }


def fargate_start(index: int) -> float:
    """A cold runner's RunTask-to-first-step time, spread evenly over the published range."""
    low, high = FARGATE_COLD_START_SECONDS
    return random.Random(2_000 + index).uniform(low, high)


def modeled(job: dict[str, Any], index: int) -> dict[str, Any]:
    """The sandbox's latency with the emulators' time replaced by the modeled latencies, plus a
    modeled Fargate start for a cold runner and GitHub's hand-over of the job."""
    sandbox = max(job["measured_seconds"] - job["emulator_seconds"], 0.0)
    fargate = 0.0 if job["warm_hit"] else fargate_start(index)
    total = sandbox + job["modeled_remote_seconds"] + fargate + ASSUMED_GITHUB_HANDOVER_SECONDS
    return {**job, "sandbox_own_seconds": sandbox, "fargate_seconds": fargate, "modeled_seconds": total}


def _summary(jobs: list[dict[str, Any]]) -> dict[str, Any]:
    if not jobs:
        return {"jobs": 0}
    totals = [j["modeled_seconds"] for j in jobs]
    measured = [j["measured_seconds"] for j in jobs]
    return {
        "jobs": len(jobs),
        "p50_seconds": percentile(totals, 50),
        "p95_seconds": percentile(totals, 95),
        "measured_p50_seconds": percentile(measured, 50),
        "measured_p95_seconds": percentile(measured, 95),
        "modeled_remote_p50_seconds": percentile([j["modeled_remote_seconds"] for j in jobs], 50),
        "fargate_p50_seconds": percentile([j["fargate_seconds"] for j in jobs], 50),
        "queued_aws_calls": sorted({j["queued_aws_calls"] for j in jobs}),
        "queued_github_calls": sorted({j["queued_github_calls"] for j in jobs}),
    }


def _pool_settings(size: int) -> Any:
    return pools_from_json(json.dumps({POOL: {"class": POOL, "size": size}}))


def _measure(ctx: Context, size: int, cold_jobs: int) -> dict[str, Any]:
    with GitHubStandIn(pat=DEFAULT_PAT) as standin:
        sandbox = open_sandbox(standin, warm_pools=_pool_settings(size))
        sandbox.push_default_image()
        session: boto3.Session = new_session()
        probe = Probe(session, AwsMeter(session), GitHubMeter(), standin)
        metrics = TimingMetrics()
        with probe.github.active():
            fleet = _Fleet(sandbox, standin, probe, metrics)
            fill = probe.call(lambda: run_janitor(fleet.deps, Deadline.after(JANITOR_DEADLINE_SECONDS)))
            pool = [r for r in fleet.deps.store.active() if r.pool == POOL and r.task_arn]
            for record in pool:
                fleet.task_running(record.runner_name)
            ctx.log(f"warm start: pool of {len(pool)} filled and online; {size + cold_jobs} jobs")
            jobs = [fleet.job() for _ in range(size + cold_jobs)]
        violations = list(standin.violations)
    return {
        "pool_size": size,
        "pool_filled": len(pool),
        "fill_errors": list(fill.result.errors),
        "fill_run_tasks": fill.counts().get("ecs.RunTask", 0),
        "jobs": jobs,
        "claims": metrics.counts["WarmPoolClaims"],
        "standin_violations": violations,
    }


def run(ctx: Context) -> Section:
    size, cold_jobs = ctx.size(20, 3), ctx.size(20, 3)
    with aws_environment(), mock_aws(), patched_transactions():
        state_manager.set_transition(
            model_name="ecs::task", transition={"progression": "manual", "times": 1_000_000}
        )
        measured = _measure(ctx, size, cold_jobs)
    jobs = [modeled(job, index) for index, job in enumerate(measured["jobs"])]
    warm = [j for j in jobs if j["warm_hit"]]
    cold = [j for j in jobs if not j["warm_hit"]]
    size_class = DEFAULT_CLASS_SIZES.get(POOL)
    assert size_class is not None
    idle = pool_idle_per_day(size_class.cpu, size_class.memory, runners=1)
    warm_summary, cold_summary = _summary(warm), _summary(cold)
    saved = (cold_summary["p50_seconds"] - warm_summary["p50_seconds"]) / 60 if warm and cold else 0.0
    data: dict[str, Any] = {
        **{k: v for k, v in measured.items() if k != "jobs"},
        "jobs": jobs,
        "warm": warm_summary,
        "cold": cold_summary,
        "starts": dict(Counter(str(j["start"]) for j in jobs)),
        "pool_class": POOL,
        "pool_class_cpu": size_class.cpu,
        "pool_class_memory": size_class.memory,
        "idle_cost_per_runner_day": idle,
        "minutes_saved_per_warm_hit": saved,
        "handover_seconds": ASSUMED_GITHUB_HANDOVER_SECONDS,
        "fargate_range_seconds": list(FARGATE_COLD_START_SECONDS),
    }
    ctx.results[NAME] = data
    return Section(NAME, TITLE, _body(ctx, data), data)


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def _body(ctx: Context, data: dict[str, Any]) -> str:
    warm, cold = data["warm"], data["cold"]
    rows = []
    for label, summary in (("warm hit (claimed from the pool)", warm), ("cold start (own task)", cold)):
        if not summary["jobs"]:
            continue
        rows.append(
            [
                label,
                summary["jobs"],
                f"{_seconds(summary['measured_p50_seconds'])} / {_seconds(summary['measured_p95_seconds'])}",
                _seconds(summary["modeled_remote_p50_seconds"]),
                _seconds(summary["fargate_p50_seconds"]),
                f"**{_seconds(summary['p50_seconds'])}** / {_seconds(summary['p95_seconds'])}",
                ", ".join(map(str, summary["queued_aws_calls"])),
            ]
        )
    headers = ["start", "jobs", "sandbox p50 / p95", "modeled remote calls p50", "Fargate start p50"]
    headers += ["queued → started p50 / p95", "AWS calls of the queued webhook"]
    per_day = data["idle_cost_per_runner_day"]
    saved = data["minutes_saved_per_warm_hit"]
    claims_rows = [
        [claims, f"{claims * saved:,.1f} min", money(per_day / (claims * saved)) if saved > 0 else "-"]
        for claims in CLAIMS_PER_RUNNER_DAY
    ]
    claims_table = table(
        ["warm hits per pool runner per day", "queued time saved", "$ per minute saved"], claims_rows
    )
    quick = " --quick" if ctx.quick else ""
    low, high = data["fargate_range_seconds"]
    return f"""
{command("python -m bench.run --only warm-start" + quick)}

A pool `{data["pool_class"]}` of {data["pool_size"]} runners (`warm_pools`), filled by one janitor run
({data["fill_run_tasks"]} RunTask calls), its tasks RUNNING and its runners online on the stand-in; then
{len(data["jobs"])} jobs queued one after another: {warm["jobs"]} warm hits, then {cold["jobs"]} cold starts
(the pool's refills still starting). Starts by the core's `JobStartLatency` dimension: {data["starts"]}.

{table(headers, rows)}

*Sandbox*: `JobStartLatency` as the core published it (from the job's `created_at` to the `in_progress`
webhook), every invocation on the path in-process against moto and the stand-in. *Modeled* (the goal's
figure, **queued → started**): the sandbox figure without the emulators' time inside remote calls, plus
the same calls at the cost model's assumed latencies (see the goal table's notes), plus for a cold start
the Fargate start of its task spread evenly over {low:.0f}-{high:.0f} s, plus {data["handover_seconds"]:.0f} s
for GitHub to hand the job to the idle runner and send `in_progress` (an assumption: GitHub publishes no
figure). A warm hit's figure includes the whole queued invocation (the claim and the launch of the pool's
refill, which calls GitHub and RunTask), although GitHub may hand the job to the idle runner before that
invocation ends: an upper bound. Fargate start, published: {FARGATE_SOURCES}

**Idle cost against the minutes saved.** One `{data["pool_class"]}` runner
({data["pool_class_cpu"]} CPU units, {data["pool_class_memory"]} MiB) idle for a day costs
{money(per_day)} on Fargate x86 on-demand (the cost model, `bench/prices.py`), so a pool of
{data["pool_size"]} costs {money(per_day * data["pool_size"])} per day while nobody claims it. Each warm hit
saves {saved:.2f} min of queued time (cold p50 - warm p50 above). What a minute saved costs depends on how
often a pool runner is claimed (an idle runner is billed whether it waits 1 minute or the whole day; a claimed
one is replaced by a refill, whose cold start is billed like any runner's):

{claims_table}
"""
