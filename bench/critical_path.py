"""1. Critical path per queued job: remote calls by kind, and handler time against time inside them.

Everything in-process: moto (``mock_aws``) for AWS and the GitHub stand-in on a loopback port, driven
through ``handle_control_plane_event`` (the core) and through the real Powertools handler. Call counts
are exact for this code; the time inside calls is emulator time, so the figure that carries over to AWS
is the **overhead**: handler wall time minus time inside remote calls.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from typing import Any

from ecsrunner_core.usecases.context import Deadline, Deps
from ecsrunner_core.usecases.dispatch import handle_control_plane_event
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn
from ecsrunner_sandbox.moto_patches import patched_transactions
from moto import mock_aws
from moto.moto_api import state_manager

from .events import build_event, ecs_task_event, job_payload, webhook_event
from .lambda_host import FakeLambdaContext, warm_control_plane
from .markdown import command, ms, table
from .meters import PAUSE_READ, AwsMeter, GitHubMeter
from .probe import Measurement, Probe
from .report import Context, Section
from .sandbox import REPOSITORY, Sandbox, aws_environment, new_session, open_sandbox
from .stats import percentile

NAME = "critical-path"
TITLE = "Critical path per queued job"
WEBHOOK_DEADLINE_SECONDS = 8.0  # as ecsrunner_lambda.control_plane
GITHUB_BUDGET_SECONDS = 4.0

QUEUED_SCENARIOS = {
    "warm": "queued, warm container, image cached (steady state)",
    "cold": "queued, cold container (first invocation), image in ECR",
    "first_job": "queued, first job of an image: not in ECR, build started (also a cold container)",
    "build_event": "CodeBuild SUCCEEDED event: launch the waiting runner",
    "duplicate": "queued, duplicate delivery of a job already accepted",
}
LIFECYCLE_SCENARIOS = {
    "ecs_pending": "ECS task state PENDING (any state but RUNNING/STOPPED)",
    "ecs_running": "ECS task state RUNNING",
    "in_progress": "workflow_job in_progress",
    "completed": "workflow_job completed",
    "ecs_stopped": "ECS task state STOPPED",
}


def _queued(sandbox: Sandbox, deps: Deps, job_id: int | None = None) -> dict[str, Any]:
    payload = job_payload("queued", job_id=job_id or sandbox.next_job_id(), repository=REPOSITORY)
    event = webhook_event(payload, secret=sandbox.deployment.webhook_secret, delivery=sandbox.next_delivery())
    return handle_control_plane_event(deps, event, Deadline.after(WEBHOOK_DEADLINE_SECONDS))


def _body(response: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response["body"])
    return body


def _job_event(
    sandbox: Sandbox, deps: Deps, action: str, job_id: int, runner: str, runner_id: int | None
) -> Any:
    payload = job_payload(
        action, job_id=job_id, repository=REPOSITORY, runner_name=runner, runner_id=runner_id
    )
    event = webhook_event(payload, secret=sandbox.deployment.webhook_secret, delivery=sandbox.next_delivery())
    return handle_control_plane_event(deps, event)


class _Lifecycle:
    """The events of one accepted job's runner, built from the record the queued job left."""

    def __init__(self, sandbox: Sandbox, deps: Deps, job_id: int, runner: str) -> None:
        record = deps.store.get(runner)
        assert record is not None and record.task_arn, record
        self.sandbox, self.deps, self.job_id, self.runner = sandbox, deps, job_id, runner
        self.task_arn, self.runner_id = record.task_arn, record.github_runner_id

    def ecs(self, status: str) -> Any:
        event = ecs_task_event(
            cluster_arn=self.sandbox.settings.cluster_arn,
            task_arn=self.task_arn,
            last_status=status,
            started_by=self.runner,
        )
        return handle_control_plane_event(self.deps, event)

    def job(self, action: str) -> Any:
        return _job_event(self.sandbox, self.deps, action, self.job_id, self.runner, self.runner_id)


def _scenarios(sandbox: Sandbox, probe: Probe, jobs: int) -> tuple[dict[str, Measurement], list[Measurement]]:
    """Each input once (warm: ``jobs`` times); returns the single measurements and the warm series."""
    session = probe.session
    found: dict[str, Measurement] = {}
    first = sandbox.services(session)
    first_deps = first.deps()
    found["first_job"] = probe.call(lambda: _queued(sandbox, first_deps))
    waiting = _body(found["first_job"].result)["runner"]
    record = first_deps.store.get(waiting)
    assert record is not None and record.image_tag, record
    image = first_deps.images.get_image(record.image_tag)
    assert image is not None and image.build_id, image
    sandbox.push_default_image()
    build_arn = (
        image.build_id
        if image.build_id.startswith("arn:")
        else (
            f"arn:aws:codebuild:{sandbox.deployment.region}:{sandbox.deployment.account}:build/{image.build_id}"
        )
    )
    succeeded = build_event(
        build_arn=build_arn,
        project=sandbox.settings.codebuild_project_name,
        status="SUCCEEDED",
        image_tag=record.image_tag,
    )
    found["build_event"] = probe.call(lambda: handle_control_plane_event(first_deps, succeeded))

    cold = sandbox.services(session)  # a new container: clients, secret and class-size caches empty
    deps = cold.deps()
    found["cold"] = probe.call(lambda: _queued(sandbox, deps))

    # One job's whole life while few runners are STARTING: the per-job inputs of the cost model.
    job_id = sandbox.next_job_id()
    accepted = _queued(sandbox, deps, job_id)
    found["duplicate"] = probe.call(lambda: _queued(sandbox, deps, job_id))
    lifecycle = _Lifecycle(sandbox, deps, job_id, _body(accepted)["runner"])
    found["ecs_pending"] = probe.call(lambda: lifecycle.ecs("PENDING"))
    found["ecs_running"] = probe.call(lambda: lifecycle.ecs("RUNNING"))
    found["in_progress"] = probe.call(lambda: lifecycle.job("in_progress"))
    found["completed"] = probe.call(lambda: lifecycle.job("completed"))
    found["ecs_stopped"] = probe.call(lambda: lifecycle.ecs("STOPPED"))

    warm = [probe.call(lambda: _queued(sandbox, deps)) for _ in range(jobs)]
    found["warm"] = typical(warm)

    # The same STOPPED event once every warm runner is launched but not yet RUNNING.
    job_id = sandbox.next_job_id()
    late = _Lifecycle(sandbox, deps, job_id, _body(_queued(sandbox, deps, job_id))["runner"])
    late.ecs("RUNNING")
    found["ecs_stopped_backlog"] = probe.call(lambda: late.ecs("STOPPED"))
    return found, warm


def _handler_series(sandbox: Sandbox, probe: Probe, jobs: int) -> tuple[list[Measurement], float]:
    """The same warm queued job through ``ecsrunner_lambda.control_plane.handler``; log bytes per call."""
    with warm_control_plane(sandbox.settings, probe.session, GITHUB_BUDGET_SECONDS) as (handler, sink):
        context = FakeLambdaContext()

        def invoke() -> Any:
            payload = job_payload("queued", job_id=sandbox.next_job_id(), repository=REPOSITORY)
            event = webhook_event(
                payload, secret=sandbox.deployment.webhook_secret, delivery=sandbox.next_delivery()
            )
            return handler(event, context)

        invoke()  # the container's first invocation builds its clients: not part of the warm series
        before = sink.bytes
        series = [probe.call(invoke) for _ in range(jobs)]
        log_bytes = (sink.bytes - before) / jobs
    for measurement in series:
        assert measurement.result["statusCode"] == 200, measurement.result
    return series, log_bytes


def without_pause(measurement: Measurement) -> Counter[str]:
    """The calls of one invocation but the read of the GitHub pause item, which the store caches for
    5 s per container: whether an invocation reads it depends on when it runs, not on its input."""
    counts = measurement.counts()
    counts.pop(PAUSE_READ, None)
    return counts


def typical(series: list[Measurement]) -> Measurement:
    """The last invocation of a series that did not read the pause item (the usual warm call set)."""
    return next((m for m in reversed(series) if not m.counts()[PAUSE_READ]), series[-1])


def pause_reads(series: list[Measurement]) -> dict[str, Any]:
    """How often one container's invocations read the pause item, and how far apart."""
    times = [call.finished_at for m in series for call in m.aws if call.target == PAUSE_READ]
    calls = [call.finished_at for m in series for call in m.aws]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    return {
        "jobs": len(series),
        "jobs_reading_pause": sum(1 for m in series if m.counts()[PAUSE_READ]),
        "reads": len(times),
        "series_seconds": calls[-1] - calls[0] if calls else 0.0,
        "min_gap_seconds": min(gaps) if gaps else None,
    }


def _timing_row(path: str, series: list[Measurement]) -> list[object]:
    walls = [m.wall for m in series]
    remote = [m.remote_seconds for m in series]
    overhead = [m.overhead for m in series]
    cpu_overhead = [m.cpu_overhead for m in series]
    share = sum(overhead) / sum(walls) if sum(walls) else 0.0
    return [
        path,
        len(series),
        ms(percentile(walls, 50)),
        ms(percentile(walls, 99)),
        ms(percentile(remote, 50)),
        ms(percentile(overhead, 50)),
        ms(percentile(overhead, 99)),
        ms(percentile(cpu_overhead, 99)),
        f"{share:.0%}",
    ]


def _pause_paragraph(reads: dict[str, dict[str, Any]], differing: int) -> str:
    core, handler = reads["core"], reads["handler"]

    def gap(series: dict[str, Any]) -> str:
        value = series["min_gap_seconds"]
        if value is None:
            return "no read" if not series["reads"] else "one read"
        return f"reads {value:.1f} s apart at the least"

    verdict = (
        f"{differing} of the handler's jobs differ from column (1)"
        if differing
        else "every handler job made the same calls as column (1)"
    )
    return " ".join(
        f"""Before it calls GitHub, a launch reads the deployment-wide GitHub rate-limit pause
        (`{PAUSE_READ}`, `DynamoDbStore.get_pause`), cached for 5 s by the store. The store lives in the
        container's `Services`, like the boto3 clients: the handler builds a new `Deps` per invocation, but
        every `Deps` shares that store, so the cache is per container in the handler exactly as in the core.
        The read therefore falls on whichever job comes first after the cache expires:
        {core["jobs_reading_pause"]} of the {core["jobs"]} core jobs ({core["series_seconds"]:.0f} s of
        calls, {gap(core)}) and {handler["jobs_reading_pause"]} of the {handler["jobs"]} handler jobs
        ({handler["series_seconds"]:.0f} s, {gap(handler)}) read it; column (1) is a job that did not. That
        is the only difference between the call sets: counting the read, {verdict}. A container that
        handles less than one job per 5 s reads it on every launch: one more eventually consistent
        `GetItem` (0.5 read unit) per job at most.""".split()
    )


def _count_table(scenarios: dict[str, str], found: dict[str, Measurement]) -> str:
    keys = list(scenarios)
    kinds = sorted({kind for key in keys for kind in found[key].counts()})
    rows: list[list[object]] = [[kind, *[found[key].counts().get(kind, 0) for key in keys]] for kind in kinds]
    rows.append(["**AWS calls**", *[len(found[key].aws) for key in keys]])
    rows.append(["**GitHub calls**", *[len(found[key].github_calls) for key in keys]])
    rows.append(["DynamoDB read units (est.)", *[found[key].read_units for key in keys]])
    rows.append(["DynamoDB write units (est.)", *[found[key].write_units for key in keys]])
    rows.append(["items read by queries", *[sum(c.scanned or 0 for c in found[key].aws) for key in keys]])
    headers = ["call", *[f"({i})" for i in range(1, len(keys) + 1)]]
    legend = "; ".join(f"({i}) {scenarios[key]}" for i, key in enumerate(keys, 1))
    return table(headers, rows) + "\n\n" + legend + "."


def _serialise(m: Measurement) -> dict[str, Any]:
    return {
        "counts": dict(m.counts()),
        "aws_calls": len(m.aws),
        "github_calls": len(m.github_calls),
        "read_units": m.read_units,
        "write_units": m.write_units,
        "items_read": sum(c.scanned or 0 for c in m.aws),
        "wall_seconds": m.wall,
        "remote_seconds": m.remote_seconds,
        "overhead_seconds": m.overhead,
        "cpu_overhead_seconds": m.cpu_overhead,
    }


def run(ctx: Context) -> Section:
    jobs = ctx.size(200, 5)
    with aws_environment(), mock_aws(), patched_transactions():
        state_manager.set_transition(
            model_name="ecs::task", transition={"progression": "manual", "times": 1_000_000}
        )
        with GitHubStandIn(pat=DEFAULT_PAT) as standin:
            sandbox = open_sandbox(standin)
            session = new_session()
            probe = Probe(session, AwsMeter(session), GitHubMeter(), standin)
            with probe.github.active():
                ctx.log(f"critical path: scenarios and {jobs} warm queued jobs (core)")
                found, warm = _scenarios(sandbox, probe, jobs)
                ctx.log(f"critical path: {jobs} warm queued jobs through the Powertools handler")
                handler, log_bytes = _handler_series(sandbox, probe, jobs)
            violations = list(standin.violations)
    warm_counts = {json.dumps(dict(sorted(without_pause(m).items()))) for m in warm}
    usual = without_pause(found["warm"])
    starting_backlog = jobs + 2  # the warm runners plus the first job's and the cold job's
    data: dict[str, Any] = {
        "jobs": jobs,
        "scenarios": {key: _serialise(m) for key, m in found.items()},
        "warm_counts_identical": len(warm_counts) == 1,
        # Both leave out the pause read (at most one per 5 s per container, at whatever job it falls).
        "handler_counts_match_core": all(without_pause(m) == usual for m in handler),
        "handler_jobs_differing_with_pause": sum(1 for m in handler if m.counts() != found["warm"].counts()),
        "pause_reads": {"core": pause_reads(warm), "handler": pause_reads(handler)},
        "timings": {
            "core": [_serialise(m) for m in warm],
            "handler": [_serialise(m) for m in handler],
        },
        "log_bytes_per_invocation": log_bytes,
        "standin_violations": violations,
        "starting_backlog_at_stop": starting_backlog,
    }
    ctx.results[NAME] = data
    stopped_reads = sum(c.scanned or 0 for c in found["ecs_stopped_backlog"].aws)
    data["stopped_items_read"] = stopped_reads
    data["stopped_read_units"] = found["ecs_stopped_backlog"].read_units
    quiet_reads = sum(c.scanned or 0 for c in found["ecs_stopped"].aws)
    backlog_calls = len(found["ecs_stopped_backlog"].aws)
    timing_headers = ["path", "jobs", "wall p50", "wall p99", "in remote calls p50", "overhead p50"]
    timing_headers += ["overhead p99", "CPU overhead p99", "overhead share"]
    timing_rows = [
        _timing_row("core: `handle_control_plane_event`", warm),
        _timing_row("Lambda: `control_plane.handler` (Powertools)", handler),
    ]
    quick = ", --quick" if ctx.quick else ""
    body = f"""
{command("python -m bench.run --only critical-path")} ({jobs} warm jobs per path{quick})

**Remote calls per queued job** (AWS counted per operation with botocore `before-call`/`after-call`
hooks on the core's boto3 session; GitHub calls counted by the stand-in):

{_count_table(QUEUED_SCENARIOS, found)}

Every warm job made exactly the same calls: **{data["warm_counts_identical"]}**; the Powertools handler made
the same calls as the core: **{data["handler_counts_match_core"]}** (both but the pause read, below). A warm
job needs one GitHub call (generate-jitconfig) and {len(found["warm"].aws)} AWS calls; the webhook secret and
the class sizes are cached per container for 300 s, so they appear only in the cold-container column.

{_pause_paragraph(data["pause_reads"], data["handler_jobs_differing_with_pause"])}

**The rest of one job's life** (inputs the cost model counts per job):

{_count_table(LIFECYCLE_SCENARIOS, found)}

The STOPPED event also tries to launch a runner waiting for a slot (`launch_waiting(limit=1)`), which
reads the sparse waiting index (only STARTING runners without a task are in it), one item at most:
{quiet_reads} items in the column above, and {stopped_reads} items ({data["stopped_read_units"]:.1f} read
units, {backlog_calls} AWS calls) for the same event after the {jobs} warm jobs, whose {starting_backlog}
runners are launched but not yet RUNNING. The burst section measures it with runners waiting for a slot.

**Handler time** (in-process, per warm queued job):

{table(timing_headers, timing_rows)}

Overhead = wall time - time inside AWS calls (botocore `before-call` to `after-call`) - time inside GitHub
HTTP attempts (`requests.Session.send`). It is our code plus boto3/requests request building, JSON,
HMAC verification and logging, on this (shared) machine. "CPU overhead" is the same difference on the
thread's CPU clock (`time.thread_time`): other processes on the machine can stretch the wall-clock
figure (a preempted invocation), not this one. A 512 MB Lambda gets about 0.29 of a vCPU
(CPU scales with memory, 1,769 MB = 1 vCPU), so expect roughly 3.5x this overhead there.
"In remote calls" is moto and the stand-in (with OpenAPI validation) running in this process: it is **not**
AWS or GitHub latency. The Powertools handler wrote {log_bytes:,.0f} bytes of logs and EMF metrics per
invocation (CloudWatch Logs ingestion; used by the cost model).
"""
    return Section(NAME, TITLE, body, data)
