"""6. Cost model: control-plane dollars per 1,000 jobs, runner dollars per minute against GitHub.

Pure arithmetic on the call counts measured by the critical-path benchmark (run first, or here at a
small size) and the list prices in :mod:`bench.prices`. Measured inputs and modeled ones are kept
apart: every assumption is named in ``ASSUMPTIONS`` and printed with the result.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any

from ecsrunner_core.domain.classes import DEFAULT_CLASS_SIZES, ClassSize

from . import critical_path
from .markdown import command, money, table
from .prices import PRICES, READ_ON, REGION, price
from .report import Context, Section

NAME = "cost"
TITLE = "Cost model"

# What one job sends the control plane. Measured per input by the critical-path benchmark; how many of
# each input a job causes is modeled here.
ECS_EVENTS_PER_TASK = 8  # one per Fargate lastStatus: PROVISIONING ... STOPPED (ECS task lifecycle docs)
INPUTS_PER_JOB = {
    "warm": 1,  # queued webhook (steady state)
    "ecs_pending": ECS_EVENTS_PER_TASK - 2,  # every state change but RUNNING and STOPPED
    "ecs_running": 1,
    "in_progress": 1,
    "completed": 1,
    "ecs_stopped": 1,
}
WEBHOOKS = ("warm", "in_progress", "completed")
LAMBDA_MEMORY_GB = 0.5  # control_plane_memory_size default 512 MB
LAMBDA_CPU_SHARE = 512 / 1769  # CPU scales with memory; 1,769 MB is one vCPU
# Assumed latency of one remote call from Lambda (not measurable here; typical in-region figures).
ASSUMED_LATENCY_SECONDS = {"dynamodb": 0.006, "s3": 0.025, "ecs": 0.150, "ecr": 0.040, "github": 0.350}
DEFAULT_LATENCY_SECONDS = 0.030
# Where each assumed latency comes from (none is measured here).
LATENCY_SOURCES = {
    "dynamodb": "AWS: 'single-digit millisecond performance at any scale' (https://aws.amazon.com/dynamodb/)",
    "s3": "assumption: no published figure for a small PutObject in-region",
    "ecs": "assumption: no published figure for RunTask's response time (the task starts asynchronously)",
    "ecr": "assumption: no published figure",
    "github": "assumption: one REST round trip from us-east-1, no published figure",
    "other": "assumption",
}
# GitHub hands a queued job to an idle runner and sends in_progress: no published figure (assumption).
ASSUMED_GITHUB_HANDOVER_SECONDS = 2.0
# RunTask to the first step of a cold runner (image pull, container start, runner start-up).
FARGATE_COLD_START_SECONDS = (45.0, 90.0)
FARGATE_SOURCES = (
    "a 413 MB image took 53-62 s (57 s on average) from task creation to container start in a private"
    " subnet without SOCI (https://elasticscale.com/blog/reduce-aws-fargate-pull-times-with-soci); the"
    " runner itself then starts, registers and takes the job, so the range assumed for a cold runner"
    " before its first step is 45-90 s (the lower end for a smaller image, or with SOCI lazy loading, which"
    " AWS reports starts tasks up to 60% faster: re:Invent 2023 CON307, summarised at"
    " https://awsrelearn.com/aws-reinvent-2023/reducing-aws-fargate-startup-times-by-lazy-loading-container-images-con307)."
)
KMS_REQUESTS_PER_JOB = 2  # S3 SSE-KMS: GenerateDataKey on PutObject, Decrypt when the ECS agent reads it
S3_GETS_PER_JOB = 1  # the ECS agent reads the environment file
JANITOR_RUNS_PER_MONTH = 30 * 24 * 12  # rate(5 minutes)
JANITOR_SECONDS_ASSUMED = 1.0
# Billed Fargate seconds a runner spends before and after its job: image pull, runner start and
# registration, shutdown. Billing starts when the image pull starts. Not measurable here; see notes.
FARGATE_OVERHEAD_SECONDS = 45.0
FARGATE_MINIMUM_SECONDS = 60.0
JOB_MINUTES = (1, 5, 15, 60)
CLASS_HEADERS = ["size", "vCPU / GB", "Fargate x86", "Fargate Spot x86 (70% off)", "Fargate arm64"]
CLASS_HEADERS += ["Spot arm64", "GitHub-hosted x64 / arm64", "GitHub / Fargate (x86 / arm)"]
JOB_HEADERS = [
    "job",
    "medium x86",
    "medium Spot",
    "GitHub 2-core",
    "large x86",
    "large arm64",
    "GitHub 4-core",
]
ASSUMPTIONS = [
    f"{ECS_EVENTS_PER_TASK} ECS task state change events per task (one per Fargate lifecycle state)",
    "Lambda billed duration = remote calls at assumed in-region latencies "
    + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in ASSUMED_LATENCY_SECONDS.items())
    + f", other AWS {DEFAULT_LATENCY_SECONDS * 1000:.0f} ms; plus our measured overhead"
    + f" / {LAMBDA_CPU_SHARE:.2f} (512 MB gets that share of a vCPU)",
    f"{KMS_REQUESTS_PER_JOB} KMS requests and {S3_GETS_PER_JOB} S3 GET per job (the JIT environment file)",
    "every invocation logs as much as the measured queued invocation (an upper bound)",
    f"the janitor runs every 5 minutes for {JANITOR_SECONDS_ASSUMED:.0f} s at 512 MB",
]


def _counts(scenario: dict[str, Any]) -> Counter[str]:
    return Counter(scenario["counts"])


def modeled_remote_seconds(counts: dict[str, int] | Counter[str]) -> float:
    """The calls of ``counts`` (``dynamodb.GetItem``: n) one after another at the assumed latencies."""
    remote = 0.0
    for target, count in counts.items():
        service = target.split(".", 1)[0]
        remote += count * ASSUMED_LATENCY_SECONDS.get(service, DEFAULT_LATENCY_SECONDS)
    return remote


def lambda_seconds(scenario: dict[str, Any]) -> float:
    """Modeled duration on Lambda: the measured calls at assumed latencies, plus our overhead."""
    return modeled_remote_seconds(_counts(scenario)) + float(scenario["overhead_seconds"]) / LAMBDA_CPU_SHARE


def pool_idle_per_day(cpu_units: int, memory_mib: int, *, runners: int = 1, arm: bool = False) -> float:
    """Dollars per day of ``runners`` warm runners of a class idling all day (Fargate on-demand)."""
    return runners * fargate_per_minute(cpu_units, memory_mib, arm=arm) * 24 * 60


def control_plane_per_job(measured: dict[str, Any]) -> dict[str, float]:
    """Dollars per job by service line, from the measured per-input call counts."""
    scenarios = measured["scenarios"]
    lines: defaultdict[str, float] = defaultdict(float)
    invocations = 0
    for key, times in INPUTS_PER_JOB.items():
        scenario = scenarios[key]
        counts = _counts(scenario)
        invocations += times
        gb_seconds = LAMBDA_MEMORY_GB * math.ceil(lambda_seconds(scenario) * 1000) / 1000
        lines["Lambda (requests + duration)"] += times * (
            price("lambda_request") + gb_seconds * price("lambda_gb_second_x86")
        )
        lines["DynamoDB (on-demand units)"] += times * (
            scenario["read_units"] * price("dynamodb_rru") + scenario["write_units"] * price("dynamodb_wru")
        )
        lines["S3 (JIT environment file)"] += times * counts.get("s3.PutObject", 0) * price("s3_put")
        lines["Secrets Manager (API calls)"] += (
            times * counts.get("secretsmanager.GetSecretValue", 0) * price("secret_call")
        )
        if key in WEBHOOKS:
            lines["API Gateway HTTP API"] += times * price("http_api_request")
    lines["S3 (JIT environment file)"] += S3_GETS_PER_JOB * price("s3_get")
    lines["KMS (requests)"] += KMS_REQUESTS_PER_JOB * price("kms_request")
    lines["EventBridge (AWS service events)"] += 0.0
    log_gb = invocations * measured["log_bytes_per_invocation"] / 1e9
    lines["CloudWatch Logs (ingestion)"] += log_gb * price("logs_ingest_gb")
    return dict(lines)


def fixed_per_month() -> dict[str, float]:
    janitor = JANITOR_RUNS_PER_MONTH * (
        price("lambda_request") + LAMBDA_MEMORY_GB * JANITOR_SECONDS_ASSUMED * price("lambda_gb_second_x86")
    )
    return {
        "Janitor (Lambda, every 5 minutes)": janitor,
        "Secrets Manager (2 secrets)": 2 * price("secret_month"),
        "KMS (1 customer managed key)": price("kms_key_month"),
    }


def fargate_per_minute(cpu_units: int, memory_mib: int, arm: bool = False, spot: bool = False) -> float:
    vcpu, gb = cpu_units / 1024, memory_mib / 1024
    if arm:
        hourly = vcpu * price("fargate_vcpu_arm") + gb * price("fargate_gb_arm")
    else:
        hourly = vcpu * price("fargate_vcpu_x86") + gb * price("fargate_gb_x86")
    if spot:
        hourly *= 1 - price("fargate_spot_discount")
    return hourly / 60


def fargate_job_cost(per_minute: float, job_minutes: float) -> float:
    billed = max(job_minutes * 60 + FARGATE_OVERHEAD_SECONDS, FARGATE_MINIMUM_SECONDS)
    return per_minute * math.ceil(billed) / 60


def github_job_cost(per_minute: float, job_minutes: float) -> float:
    return per_minute * math.ceil(job_minutes)


def _class_rows() -> list[list[object]]:
    rows: list[list[object]] = []
    comparable = {"small": "github_linux_2", "medium": "github_linux_2", "large": "github_linux_4"}
    for name, size in DEFAULT_CLASS_SIZES.classes.items():
        rows.append(_size_row(f"`class:{name}`", size, comparable[name]))
    extra = {
        "2 vCPU / 8 GB (as GitHub 2-core)": (ClassSize("as-2core", 2048, 8192), "github_linux_2"),
        "4 vCPU / 16 GB (as GitHub 4-core)": (ClassSize("as-4core", 4096, 16384), "github_linux_4"),
        "16 vCPU / 64 GB (as GitHub 16-core)": (ClassSize("as-16core", 16384, 65536), "github_linux_16"),
    }
    for label, (size, github) in extra.items():
        rows.append(_size_row(label, size, github))
    return rows


def _size_row(label: str, size: ClassSize, github: str) -> list[object]:
    x86 = fargate_per_minute(size.cpu, size.memory)
    arm = fargate_per_minute(size.cpu, size.memory, arm=True)
    spot = fargate_per_minute(size.cpu, size.memory, spot=True)
    github_x86, github_arm = price(github), price(github + "_arm")
    return [
        label,
        f"{size.cpu / 1024:g} / {size.memory / 1024:g}",
        money(x86),
        money(spot),
        money(arm),
        "n/a (x86 only)",
        f"{money(github_x86)} / {money(github_arm)} ({_github_name(github)})",
        f"{github_x86 / x86:.1f}x / {github_arm / arm:.1f}x",
    ]


def _github_name(key: str) -> str:
    return PRICES[key].what.split("(")[0].replace("GitHub-hosted ", "").strip()


def _job_rows() -> list[list[object]]:
    medium = DEFAULT_CLASS_SIZES.classes["medium"]
    large = DEFAULT_CLASS_SIZES.classes["large"]
    rows: list[list[object]] = []
    for minutes in JOB_MINUTES:
        rows.append(
            [
                f"{minutes} min",
                money(fargate_job_cost(fargate_per_minute(medium.cpu, medium.memory), minutes)),
                money(fargate_job_cost(fargate_per_minute(medium.cpu, medium.memory, spot=True), minutes)),
                money(github_job_cost(price("github_linux_2"), minutes)),
                money(fargate_job_cost(fargate_per_minute(large.cpu, large.memory), minutes)),
                money(fargate_job_cost(fargate_per_minute(large.cpu, large.memory, arm=True), minutes)),
                money(github_job_cost(price("github_linux_4"), minutes)),
            ]
        )
    return rows


def run(ctx: Context) -> Section:
    if critical_path.NAME not in ctx.results:
        ctx.log("cost: no call counts yet; measuring them (critical path at a small size)")
        critical_path.run(replace(ctx, quick=True))
    measured = ctx.results[critical_path.NAME]
    per_job = control_plane_per_job(measured)
    fixed = fixed_per_month()
    total_per_1000 = 1000 * sum(per_job.values())
    medium = DEFAULT_CLASS_SIZES.classes["medium"]
    runner_per_1000 = 1000 * fargate_job_cost(fargate_per_minute(medium.cpu, medium.memory), 5)
    pools = {
        name: {
            "x86": pool_idle_per_day(size.cpu, size.memory),
            "arm64": pool_idle_per_day(size.cpu, size.memory, arm=True),
        }
        for name, size in DEFAULT_CLASS_SIZES.classes.items()
    }
    data = {
        "pool_idle_per_runner_day": pools,
        "latency_seconds": {**ASSUMED_LATENCY_SECONDS, "other": DEFAULT_LATENCY_SECONDS},
        "latency_sources": LATENCY_SOURCES,
        "per_job": per_job,
        "per_1000_jobs": total_per_1000,
        "fixed_per_month": fixed,
        "runner_per_1000_medium_5min": runner_per_1000,
        "assumptions": ASSUMPTIONS,
        "prices": {key: {"usd": p.usd, "unit": p.unit, "source": p.source} for key, p in PRICES.items()},
        "read_on": READ_ON,
    }
    ctx.results[NAME] = data
    return Section(NAME, TITLE, _body(ctx, measured, data), data)


def _body(ctx: Context, measured: dict[str, Any], data: dict[str, Any]) -> str:
    per_job = data["per_job"]
    rows = [[line, money(1000 * dollars)] for line, dollars in sorted(per_job.items(), key=lambda kv: -kv[1])]
    rows.append(["**control plane per 1,000 jobs**", f"**{money(data['per_1000_jobs'])}**"])
    fixed_rows = [[line, money(dollars)] for line, dollars in data["fixed_per_month"].items()]
    inputs = ", ".join(
        f"{times} x {critical_path.LIFECYCLE_SCENARIOS.get(k, critical_path.QUEUED_SCENARIOS.get(k))}"
        for k, times in INPUTS_PER_JOB.items()
    )
    price_rows = [
        [
            p.what,
            f"${p.usd:.10g}" if p.usd else "$0",
            p.unit,
            p.source + (f" (confirmed: {p.confirmed_by})" if p.confirmed_by else ""),
            p.note,
        ]
        for p in PRICES.values()
    ]
    quick = " --quick" if ctx.quick else ""
    share = data["per_1000_jobs"] / data["runner_per_1000_medium_5min"]
    pool_rows = [
        [f"`class:{name}`", money(cost["x86"]), money(cost["arm64"]), money(cost["x86"] * 30)]
        for name, cost in data["pool_idle_per_runner_day"].items()
    ]
    latency_rows = [
        [service, f"{seconds * 1000:.0f} ms", data["latency_sources"].get(service, "assumption")]
        for service, seconds in data["latency_seconds"].items()
    ]
    return f"""
{command("python -m bench.run --only critical-path cost" + quick)} (prices: {REGION}, read {READ_ON})

**Control plane, per 1,000 jobs** (measured call counts of each input x how often a job causes it:
{inputs}):

{table(["line", "per 1,000 jobs"], rows)}

Fixed, per month whatever the volume:

{table(["line", "per month"], fixed_rows)}

Modeled, not measured: {"; ".join(ASSUMPTIONS)}. DynamoDB units are estimated from the items' sizes
(see `bench/dynamodb_units.py`). Storage of the records (30-day retention; about 2.5 KB per job: the
runner record, its job guard and the index copy) is $0.25 per GB-month: 1,000 jobs a day keep about
75 MB, under $0.02 a month. For comparison, the runners of those 1,000 jobs cost
{money(data["runner_per_1000_medium_5min"])} (class `medium`, 5-minute jobs, on-demand x86): the control
plane adds {share:.1%}.

**Runners, per minute** (Fargate bills per second with a one-minute minimum, from the start of the image
pull until the task stops; GitHub rounds each job up to whole minutes):

{table(CLASS_HEADERS, _class_rows())}

Fargate Spot is modeled at its "up to 70%" discount; the live Spot price moves, typically 50-70% off, and
Fargate Spot does not run arm64 tasks. A `class:small` or `class:medium` runner has less CPU than
GitHub's smallest Linux runner (2 cores); the rows "as GitHub N-core" price the same vCPU and memory.

**Warm pools: idle cost per pool runner** (`warm_pools`; a warm runner's task runs, and is billed, from
its start until a job claims it or the pool recycles it; Fargate on-demand, per day):

{table(["class", "x86 per day", "arm64 per day", "x86 per 30 days"], pool_rows)}

A pool of N runners costs N times the row while nobody claims them; the minutes a warm hit saves are in the
warm-start section.

**Assumed latencies** (used for the Lambda duration above, the modeled launch pace and queued → started):

{table(["service", "per call", "source"], latency_rows)}

**Per job** (Fargate: job + {FARGATE_OVERHEAD_SECONDS:.0f} s billed start-up and shutdown, per second,
1-minute minimum; GitHub: job rounded up to whole minutes):

{table(JOB_HEADERS, _job_rows())}

Not measurable here: Fargate start-up (provisioning, image pull, runner registration). Published figures:
a 413 MB image took 53-62 s from task creation to container start in a private subnet without SOCI
(https://elasticscale.com/blog/reduce-aws-fargate-pull-times-with-soci); AWS reports that SOCI lazy
loading starts tasks up to 60% faster (re:Invent 2023 CON307, summarised at
https://awsrelearn.com/aws-reinvent-2023/reducing-aws-fargate-startup-times-by-lazy-loading-container-images-con307),
and that image download is 76% of container start-up time in the research it cites
(https://aws.amazon.com/blogs/aws/aws-fargate-enables-faster-container-startup-using-seekable-oci/).
Provisioning before the pull is not billed; the {FARGATE_OVERHEAD_SECONDS:.0f} s billed overhead above is an
assumption from these figures. GitHub's self-hosted "cloud platform charge" ($0.002 per minute in
private repositories, announced for March 2026 and then postponed) would add $0.002 to every Fargate
minute above if it comes into force.

**Prices** ({REGION}, read {READ_ON} from stored copies of the pages; where the official AWS page renders
its rates in the browser, the figure was confirmed on the second page named):

{table(["price", "USD", "unit", "source", "note"], price_rows)}
"""
