"""``make demo``: the whole system on one machine, with AWS played by moto and GitHub by a stand-in.

The real root module (``examples/sandbox``) is applied to a moto server; the deployed functions
run from the built zip under their runtime's Python with the environment read back from their
configuration; the webhook is served through the deployed HTTP API route, and ECS and CodeBuild
events reach the functions through the deployed EventBridge rules. A workflow of jobs is played
end to end; a warm pool, filled by the janitor through its schedule rule, gives one job a warm
start next to a cold one; the janitor runs again, the operator CLI lists the runners and their
statistics, and the deployment's own records are checked. Everything is torn down at the end, also on Ctrl-C.

    python -m ecsrunner_sandbox.demo [--scenario full|smoke] [--keep] [--json-summary PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from ecsrunner_core.adapters.clock import SystemClock
from ecsrunner_core.adapters.dynamodb_store import DynamoDbStore
from ecsrunner_core.domain.image_ref import parse_image_reference
from ecsrunner_core.domain.status import RunnerStatus

from .build_runner import ImageBuilds
from .demo_report import (
    Facts,
    JobStart,
    LeftBehindFacts,
    Leftovers,
    WarmFacts,
    check,
    format_summary,
    summary,
)
from .ecs_events import EcsTaskWatcher
from .event_router import EventBus
from .github_side import Delivery, DeliveryResult, GitHubSide
from .github_state import Job, repo_scope
from .lambda_host import LambdaHost
from .lambda_runtime import RuntimePython, find_runtime_python, runtime_layer
from .progress import Progress
from .runner_tasks import RunnerTasks
from .sandbox_stack import REPOSITORY, MissingArtefact, SandboxStack, check_artefacts, json_outputs_for_log
from .scenario import (
    FORGED_JOB_ID,
    SCENARIOS,
    LeftBehindPlayer,
    Played,
    ScenarioPlayer,
    WarmPoolPlayer,
    idle_pool_runners,
)
from .terraform import REPO_ROOT, TerraformError
from .webhook_gateway import WebhookGateway, find_http_api

DEFAULT_WORK_DIR = REPO_ROOT / "build" / "demo"
RUNTIME_CACHE = REPO_ROOT / "build" / "lambda-runtime"
WEBHOOK_ROUTE = "POST /webhook"
SECRET_VARIABLE = "ECSRUNNER_DEMO_WEBHOOK_SECRET"  # noqa: S105 (a variable name, not a secret)
CLI_TIMEOUT_SECONDS = 120
INTERRUPT_GRACE_SECONDS = 3.0
WORK_DIR_MARKER = ".ecsrunner-demo"
DEMO_VARIABLES = "demo.auto.tfvars.json"  # the demo's own settings of examples/sandbox (warm_pools)
TAG_PREFIX = "ecsrunner:"  # the control plane's task tags


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ecsrunner_sandbox.demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="full")
    parser.add_argument("--keep", action="store_true", help="leave the moto server and deployment up")
    parser.add_argument("--json-summary", metavar="PATH", type=Path, help="also write the summary here")
    parser.add_argument("--work-dir", metavar="DIR", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--quiet", action="store_true", help="stage lines and the summary only")
    parser.add_argument("--no-color", action="store_true")
    return parser.parse_args(argv)


def prepare_work_dir(directory: Path) -> None:
    """An empty work directory. Only the default one (under build/) or one a previous run marked is
    emptied: ``--work-dir`` never deletes a directory the demo did not make."""
    marker = directory / WORK_DIR_MARKER
    if directory.exists() and any(directory.iterdir()):
        if not marker.is_file() and directory != DEFAULT_WORK_DIR.resolve():
            raise WorkDirNotOurs(f"{directory} is not empty and not a demo work directory: use another")
        shutil.rmtree(directory)
    (directory / "logs").mkdir(parents=True)
    marker.write_text("made by python -m ecsrunner_sandbox.demo; emptied by its next run\n")


class WorkDirNotOurs(RuntimeError):
    """--work-dir names a directory the demo did not make."""


def _terminate_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class Demo:
    def __init__(self, args: argparse.Namespace, progress: Progress) -> None:
        self.args = args
        self.progress = progress
        self.scenario = SCENARIOS[args.scenario]
        self.run_dir: Path = args.work_dir.resolve()
        self.stack = SandboxStack(self.run_dir)
        self.host: LambdaHost | None = None
        self.gateway: WebhookGateway | None = None
        self.bus: EventBus | None = None
        self.github: GitHubSide | None = None
        self.runner_tasks: RunnerTasks | None = None
        self.builds: ImageBuilds | None = None
        self.store: DynamoDbStore | None = None
        self.played: Played | None = None
        self.janitor_report: dict[str, Any] | None = None
        self.cli_listing_ok = False
        self.stats_lines: list[str] = []
        self.player: ScenarioPlayer | None = None
        self.warm_player: WarmPoolPlayer | None = None
        self.warm_latency_points: dict[str, list[float]] = {}  # JobStartLatency after the warm part
        self.failures: list[str] = []
        self._facts: Facts | None = None
        self.interrupted = False
        self._pythons: dict[str, RuntimePython] = {}
        self._idle = threading.Event()

    # --- stages -------------------------------------------------------------------------------

    def run(self) -> None:
        p = self.progress
        with p.stage("Check the build"):
            check_artefacts()
            zip_path = REPO_ROOT / "dist" / "lambda.zip"
            p.note(f"dist/lambda.zip ({zip_path.stat().st_size / 1e6:.1f} MB) and dist/runner-context.zip")
        with p.stage("Start moto and the GitHub stand-in"):
            prepare_work_dir(self.run_dir)
            moto = self.stack.start_moto()
            p.note(f"moto server on {moto.endpoint_url} (log: {moto.log_path})")
            standin = self.stack.start_github()
            p.note(
                f"GitHub stand-in on {standin.api_url}: repository {REPOSITORY}, PAT auth, OpenAPI-checked"
            )
        with p.stage("terraform apply examples/sandbox"):
            terraform = self.stack.prepare_terraform()
            if self.scenario.warm_pool is not None:
                variables = {"warm_pools": self.scenario.warm_pool.variable}
                (terraform.workdir / DEMO_VARIABLES).write_text(json.dumps(variables, indent=2))
                p.note(f"warm_pools = {json.dumps(self.scenario.warm_pool.variable)}")
            with p.waiting("terraform apply: the real root module, every endpoint → moto (the slow part)"):
                outputs = self.stack.apply()
            (self.run_dir / "outputs.json").write_text(json_outputs_for_log(outputs))
            p.note(f"applied in {terraform.workdir}; {self._resource_count()} resources in the state")
        self.load_functions()
        self.serve()
        self.play()
        self.warm_pool()
        self.left_behind()
        self.janitor()
        self.runners_list()
        self.runners_stats()

    def _resource_count(self) -> int:
        assert self.stack.terraform is not None
        listing = self.stack.terraform.run("state", "list").stdout
        addresses = [line.strip() for line in listing.splitlines() if line.strip()]
        return sum(1 for a in addresses if not a.startswith("data.") and ".data." not in a)

    def _python_for(self, runtime: str) -> RuntimePython:
        if runtime not in self._pythons:
            python = find_runtime_python(runtime)
            if not python.exact:
                self.progress.warn(
                    f"no {runtime} interpreter found: {python.describe()}; install Python "
                    f"{runtime.removeprefix('python')} or set ECSRUNNER_RUNTIME_PYTHON"
                )
            self._pythons[runtime] = python
        return self._pythons[runtime]

    def load_functions(self) -> None:
        p, stack = self.progress, self.stack
        assert stack.moto is not None
        with p.stage("Load the deployed functions as Lambda would"):
            layer = runtime_layer(RUNTIME_CACHE)
            self.host = LambdaHost(
                stack.client("lambda"),
                artefact=stack.staged_artefact("lambda.zip"),
                work_dir=self.run_dir / "lambda",
                log_dir=self.run_dir / "logs",
                layer_dir=layer,
                aws_environment={**stack.moto.client_environment(), "AWS_SESSION_TOKEN": "sandbox"},
                python_for=self._python_for,
            )
            for key in ("control_plane_function_name", "janitor_function_name"):
                loaded = self.host.load(stack.outputs[key])
                config = loaded.config
                p.note(
                    f"{config.name}: {config.handler}, {config.runtime} on Python {loaded.python.version}, "
                    f"{config.memory_mb} MB, {config.timeout_seconds}s, {len(config.environment)} variables "
                    f"read back from the function, init {loaded.init_ms / 1000:.1f}s"
                )
                p.note(f"  code: {loaded.code_source}")
            p.note(f"runtime layer (boto3 as the runtime provides it): {layer}")

    def serve(self) -> None:
        p, stack = self.progress, self.stack
        assert self.host is not None and stack.moto is not None
        host = self.host
        account = stack.outputs["cluster_arn"].split(":")[4]
        with p.stage("Serve the API route and the event rules"):
            api = find_http_api(
                stack.client("apigatewayv2"),
                route_key=WEBHOOK_ROUTE,
                account=account,
                region=stack.moto.region,
            )
            self.gateway = WebhookGateway(api, host.invoke)
            self.gateway.start()
            for route in api.routes:
                function = host.function_name(route.function)
                p.note(
                    f"{self.gateway.origin}{route.route_key.split(' ', 1)[-1]}: route {route.route_key!r} → "
                    f"{function} (payload {route.payload_format})"
                )
            self.bus = EventBus(
                events_client=stack.client("events"),
                lambda_client=stack.client("lambda"),
                sqs_client=stack.client("sqs"),
                invoke=host.invoke,
                account=account,
                region=stack.moto.region,
            )
            for rule in self.bus.load():
                trigger = rule.schedule or "pattern " + json.dumps(
                    json.loads(rule.pattern or "{}"), sort_keys=True
                )
                targets = ", ".join(host.function_name(arn) for arn in rule.target_arns)
                p.note(f"rule {rule.name}: {trigger} → {targets}")

    def play(self) -> None:
        p, stack = self.progress, self.stack
        assert self.bus is not None and self.gateway is not None and stack.standin is not None
        outputs = stack.outputs
        with p.stage(f"Play the {self.scenario.name} scenario"):
            secret = stack.deployed_webhook_secret()
            self.github = GitHubSide(stack.standin, REPOSITORY, f"{self.gateway.origin}/webhook", secret)
            p.note("GitHub side signs deliveries with the webhook secret read from Secrets Manager")
            self.store = DynamoDbStore(
                stack.client("dynamodb"),
                outputs["runner_table_name"],
                SystemClock(),
                max_runners=0,
                retention=timedelta(days=1),
            )
            store = self.store
            watcher = EcsTaskWatcher(stack.client("ecs"), outputs["cluster_arn"])
            self.runner_tasks = RunnerTasks(
                ecs_client=stack.client("ecs"),
                s3_client=stack.client("s3"),
                ecr_client=stack.client("ecr"),
                watcher=watcher,
                bus=self.bus,
                github=self.github,
                log=p.event,
            )

            def tag_for_build(build_id: str) -> tuple[str, str] | None:
                tag = store.tag_for_build(build_id)
                image = store.get_image(tag) if tag else None
                return (tag, image.base_image) if tag and image else None

            self.builds = ImageBuilds(
                codebuild_client=stack.client("codebuild"),
                ecr_client=stack.client("ecr"),
                bus=self.bus,
                project_name=outputs["codebuild_project_name"],
                tag_for_build=tag_for_build,
                log=p.event,
            )
            builds = self.builds
            player = self.player = ScenarioPlayer(
                scenario=self.scenario,
                github=self.github,
                bus=self.bus,
                runner_tasks=self.runner_tasks,
                tick_builds=builds.tick,
                builds_pending=lambda: len(builds.pending()),
                records_settled=lambda: next(iter(store.active()), None) is None,
                send_with_cli=self.send_with_cli,
                progress=p,
            )
            self.played = player.run(self._idle.wait)
            self._explain_builds()
            if not self.played.settled:
                raise RuntimeError(
                    f"the scenario did not settle within {self.scenario.deadline_seconds:.0f}s"
                )

    def _explain_builds(self) -> None:
        """Why there are as many builds as there are: one per image, however many runners wait."""
        assert self.builds is not None and self.store is not None
        records = [r for status in RunnerStatus for r in self.store.by_status(status)]
        default_image = self.stack.cli_environment().get("DEFAULT_BASE_IMAGE", "")
        default = parse_image_reference(default_image).canonical if default_image else None
        for build in self.builds.builds.values():
            waited = sum(1 for r in records if r.image_tag == build.tag)
            why = " (the default image, new to this deployment)" if build.base_image == default else ""
            self.progress.note(f"image build of {build.base_image}{why}: one build for {waited} runner(s)")

    def send_with_cli(self, job: Job) -> DeliveryResult | None:
        """Deliver ``job``'s queued webhook with the operator CLI (``webhook send``), as a user would."""
        assert self.github is not None
        delivery = self.github.delivery(job, "queued")
        payload = self.run_dir / "payloads" / f"workflow_job.queued.{job.id}.json"
        payload.parent.mkdir(parents=True, exist_ok=True)
        payload.write_bytes(delivery.body)
        env = {**os.environ, SECRET_VARIABLE: self.stack.deployed_webhook_secret()}
        argv = [sys.executable, "-m", "ecsrunner", "webhook", "send", "--url", self.github.webhook_url,
                "--secret-env", SECRET_VARIABLE, "--payload", str(payload)]  # fmt: skip
        done = subprocess.run(  # noqa: S603 (our interpreter running our CLI)
            argv, capture_output=True, text=True, env=env, timeout=CLI_TIMEOUT_SECONDS, check=False
        )
        match = re.search(r"^HTTP (\d{3})$", done.stdout, re.MULTILINE)
        if match is None:
            self.progress.warn(
                f"`ecsrunner webhook send` unavailable ({done.stderr.strip()[:120]}): posting directly"
            )
            return None
        body = done.stdout[match.end() :].strip()
        try:
            answer = json.loads(body) if body else {}
        except ValueError:
            answer = {"message": body[:200]}
        found = re.search(r"delivery ([0-9a-f-]{36})", done.stdout + done.stderr)
        sent = Delivery("workflow_job", "queued", job.id, found.group(1) if found else "", delivery.body, {})
        result = DeliveryResult(sent, int(match.group(1)), answer if isinstance(answer, dict) else {}, "cli")
        self.github.record(result)
        return result

    def warm_pool(self) -> None:
        spec = self.scenario.warm_pool
        if spec is None:
            return
        assert self.player is not None and self.store is not None and self.played is not None
        store = self.store
        with self.progress.stage("Warm pool: a warm start next to a cold one"):
            warm = self.warm_player = WarmPoolPlayer(
                player=self.player,
                spec=spec,
                fire_janitor=self.fire_janitor,
                active=lambda: list(store.active()),
            )
            self.played.warm = warm.run(self._idle.wait)
            self.warm_latency_points = self.job_start_latency_points()
            if not self.played.warm.settled:
                raise RuntimeError("the warm pool part did not settle")

    def left_behind(self) -> None:
        spec = self.scenario.left_behind
        if spec is None:
            return
        assert self.player is not None and self.played is not None
        with self.progress.stage("No job left behind"):
            player = LeftBehindPlayer(
                player=self.player,
                spec=spec,
                fire_janitor=self.fire_janitor,
                quiet=self.warm_player.quiet if self.warm_player is not None else self.player.quiet,
            )
            self.played.left_behind = player.run(self._idle.wait)
            if not self.played.left_behind.settled:
                raise RuntimeError("the no-job-left-behind part did not settle")

    def fire_janitor(self) -> dict[str, Any] | None:
        """The janitor through its schedule rule (as EventBridge would); its report."""
        p = self.progress
        assert self.bus is not None
        report: dict[str, Any] | None = None
        # The image-rebuild rule is scheduled too (weekly, a fixed input): not the janitor's sweep.
        for rule in [r for r in self.bus.schedule_rules() if not r.name.endswith("-image-rebuild")]:
            for delivery in self.bus.fire_schedule(rule.name):
                if not delivery.ok:
                    raise RuntimeError(f"janitor failed: {delivery.invocation.error}")
                report = dict(delivery.invocation.result or {})
                counts = ", ".join(f"{k} {v}" for k, v in report.items() if k != "errors")
                p.event("schedule", f"{rule.schedule} fired {rule.name} → {delivery.function}: {counts}")
                for error in report.get("errors") or []:
                    p.warn(f"janitor: {error}")
        if self.github is not None:
            for method, path, status in self.github.new_api_calls():
                p.event("github", f"API {method} {path} → {status} (from the janitor)")
        return report

    def janitor(self) -> None:
        with self.progress.stage("Run the janitor by its schedule rule"):
            self.janitor_report = self.fire_janitor()

    def cli(self, *command: str) -> list[str]:
        """``python -m ecsrunner <command>`` against this deployment, as an operator runs it; its
        output is printed. RuntimeError unless it exits 0 with some output."""
        p, stack = self.progress, self.stack
        assert stack.terraform is not None
        env = {**os.environ, **stack.cli_environment()}
        argv = [sys.executable, "-m", "ecsrunner", *command, "--terraform-dir", str(stack.terraform.workdir)]
        done = subprocess.run(  # noqa: S603 (our interpreter running our CLI)
            argv, capture_output=True, text=True, env=env, timeout=CLI_TIMEOUT_SECONDS, check=False
        )
        lines = done.stdout.rstrip().splitlines()
        for line in lines:
            p.line(f"    {line}".rstrip())
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
        return lines

    def runners_list(self) -> None:
        with self.progress.stage("python -m ecsrunner runners list"):
            self.cli("runners", "list")
            self.cli_listing_ok = True

    def runners_stats(self) -> None:
        with self.progress.stage("python -m ecsrunner runners stats --since 1h"):
            self.stats_lines = self.cli("runners", "stats", "--since", "1h")

    # --- checks, summary, teardown ------------------------------------------------------------

    def facts(self) -> Facts | None:
        if self.played is None or self.store is None or self.runner_tasks is None or self.host is None:
            return None
        stack, outputs = self.stack, self.stack.outputs
        assert stack.standin is not None and self.bus is not None and self.builds is not None
        records = [r for status in RunnerStatus for r in self.store.by_status(status)]
        guard = stack.client("dynamodb").get_item(
            TableName=outputs["runner_table_name"], Key={"pk": {"S": f"JOB#{FORGED_JOB_ID}"}}
        )
        jit = stack.client("s3").list_objects_v2(Bucket=outputs["jit_bucket_name"], Prefix="jit/")
        dlq = stack.client("sqs").get_queue_attributes(
            QueueUrl=outputs["dead_letter_queue_url"], AttributeNames=["ApproximateNumberOfMessages"]
        )
        tags_of = self.task_tags()
        warm = self.warm_facts(records, tags_of)
        kept = set(warm.idle_after) if warm is not None else set()  # the pool's, by design
        tasks = self.runner_tasks.tasks
        running = [
            a
            for a in self.runner_tasks.watcher.running_tasks()
            if a not in tasks or tasks[a].runner_name not in kept
        ]
        leftovers = Leftovers(
            tasks_running=len(running),
            github_runners=sum(
                1 for r in stack.standin.state.runners_in(repo_scope(REPOSITORY)) if r.name not in kept
            ),
            jit_objects=sum(
                1
                for o in jit.get("Contents", [])
                if o["Key"].removeprefix("jit/").removesuffix(".env") not in kept
            ),
            dead_letters=int(dlq["Attributes"]["ApproximateNumberOfMessages"]),
        )
        return Facts(
            played=self.played,
            records=records,
            guard_for_forged="Item" in guard,
            leftovers=leftovers,
            function_errors=sum(w.stats.errors for w in self.host.workers.values()),
            github_violations=list(stack.standin.violations),
            janitor_report=self.janitor_report,
            image_builds=len(self.builds.builds),
            events={
                "ecs": len(self.runner_tasks.event_outcomes)
                + (self.played.other_cluster_dropped is not None),
                "codebuild": sum(1 for b in self.builds.builds.values() if b.finished_at),
                "dropped": self.bus.stats.unmatched,
                "dead_lettered": self.bus.stats.dead_lettered,
            },
            cli_listing_ok=self.cli_listing_ok,
            extra_failures=list(self.failures),
            warm=warm,
            left_behind=self.left_behind_facts(records, tags_of),
            stats_lines=list(self.stats_lines),
        )

    def task_tags(self) -> dict[str, dict[str, str]]:
        """Every task the demo saw, with the tags the control plane gave it at RunTask."""
        assert self.runner_tasks is not None
        watcher = self.runner_tasks.watcher
        return {
            task["taskArn"]: {t["key"]: t["value"] for t in task.get("tags", []) if "key" in t}
            for task in watcher.describe(list(watcher.timelines))
        }

    def left_behind_facts(
        self, records: list[Any], tags_of: dict[str, dict[str, str]]
    ) -> LeftBehindFacts | None:
        played = self.played.left_behind if self.played is not None else None
        if played is None or self.github is None or not {"spot", "lost"} <= set(played.jobs):
            return None
        spot, lost = played.jobs["spot"], played.jobs["lost"]

        def tasks_for(job_id: int) -> int:
            return sum(1 for tags in tags_of.values() if tags.get(TAG_PREFIX + "job-id") == str(job_id))

        def ran_once(job: Any) -> bool:
            ran = [r for r in records if r.run_job_id == job.id]
            return bool(job.status == "completed" and job.conclusion == "success" and len(ran) == 1)

        by_name = {r.runner_name: r for r in records}
        interrupted = by_name.get(played.interrupted or "")
        successor = next((r for r in records if r.replaces == played.interrupted), None)
        found = [r for r in records if r.job_id == lost.id]
        return LeftBehindFacts(
            spot_job_id=spot.id,
            spot_labels=played.spec.spot.labels,
            interrupted=played.interrupted,
            interrupted_status=str(interrupted.status) if interrupted else None,
            interrupted_reason=interrupted.status_reason if interrupted else "",
            interrupted_took_job=bool(interrupted and interrupted.took_job),
            relaunched_as=successor.runner_name if successor else None,
            relaunch_on_demand=bool(successor and successor.on_demand),
            spot_ran_on=spot.runner_name,
            spot_tasks=tasks_for(spot.id),
            spot_ran_once=ran_once(spot),
            lost_job_id=lost.id,
            lost_labels=played.spec.lost.labels,
            lost_deliveries=sum(
                1
                for r in self.github.results
                if r.delivery.job_id == lost.id and r.delivery.action == "queued"
            ),
            jobs_reconciled=int((played.reconcile_report or {}).get("jobs_reconciled", 0)),
            lost_runner=found[0].runner_name if found else None,
            lost_found_on_github=any("found on GitHub" in entry.reason for r in found for entry in r.history),
            lost_tasks=tasks_for(lost.id),
            lost_ran_once=ran_once(lost),
            settled=played.settled,
        )

    def warm_facts(self, records: list[Any], tags_of: dict[str, dict[str, str]]) -> WarmFacts | None:
        """The warm pool part, from the runner records, the tasks' own tags, the GitHub stand-in
        and the control plane's metrics (EMF in its log)."""
        played = self.played.warm if self.played is not None else None
        if played is None or self.store is None or self.runner_tasks is None or self.host is None:
            return None
        assert self.stack.standin is not None
        spec, watcher = played.spec, self.runner_tasks.watcher
        by_name = {r.runner_name: r for r in records}
        starts = []
        for kind, job_spec in (("warm", spec.warm), ("cold", spec.cold)):
            job = played.jobs.get(kind)
            if job is None:
                continue
            ran = [r for r in records if r.run_job_id == job.id]
            runner = by_name.get(job.runner_name or "")
            answer = played.queued.get(kind)
            starts.append(
                JobStart(
                    start=kind,
                    job_id=job.id,
                    name=job_spec.name,
                    labels=job_spec.labels,
                    answer=str(answer.response.get("detail") or answer.outcome) if answer else "",
                    runner=job.runner_name,
                    runner_pool=runner.pool if runner is not None else None,
                    tasks_for_job=sum(
                        1 for t in tags_of.values() if t.get(TAG_PREFIX + "job-id") == str(job.id)
                    ),
                    ran_once=job.status == "completed" and job.conclusion == "success" and len(ran) == 1,
                    latency_seconds=played.latency(kind),
                )
            )
        idle_after = sorted(r.runner_name for r in idle_pool_runners(list(self.store.active()), spec.pool))
        running = {
            self.runner_tasks.tasks[a].runner_name
            for a in watcher.running_tasks()
            if a in self.runner_tasks.tasks
        }
        registered = {r.name for r in self.stack.standin.state.runners_in(repo_scope(REPOSITORY))}
        return WarmFacts(
            pool=spec.pool,
            class_name=spec.class_name,
            size=spec.size,
            filled=played.filled,
            fill_added=int((played.fill_report or {}).get("warm_runners_added", 0)),
            idle_before=list(played.idle_before),
            starts=starts,
            refills=sum(
                1
                for arn, tags in tags_of.items()
                if arn not in played.tasks_before and tags.get(TAG_PREFIX + "pool") == spec.pool
            ),
            idle_after=idle_after,
            idle_after_tasks=sum(1 for name in idle_after if name in running),
            idle_after_github=sum(1 for name in idle_after if name in registered),
            latency_metrics=self.warm_latency_points,
            settled=played.settled,
        )

    def job_start_latency_points(self) -> dict[str, list[float]]:
        """JobStartLatency data points by their ``start`` dimension, read from the control plane's
        EMF documents in its log (what CloudWatch would ingest)."""
        assert self.host is not None
        points: dict[str, list[float]] = {}
        for worker in self.host.workers.values():
            for line in worker.log_path.read_text(errors="replace").splitlines():
                if '"JobStartLatency"' not in line or not line.startswith("{"):
                    continue
                try:
                    document = json.loads(line)
                except ValueError:
                    continue
                if isinstance(document, dict) and "_aws" in document and "JobStartLatency" in document:
                    values = document["JobStartLatency"]
                    values = values if isinstance(values, list) else [values]
                    points.setdefault(str(document.get("start", "?")), []).extend(float(v) for v in values)
        return points

    def verify(self) -> None:
        p = self.progress
        with p.stage("Check the invariants"):
            facts = self.facts()
            if facts is None:
                raise RuntimeError("the scenario did not run: nothing to check")
            self._facts = facts
            for item in check(facts):
                mark = p.paint("✓", "green") if item.ok else p.paint("✗", "red")
                p.line(f"    {mark} {item.name}" + ("" if item.ok else f": {item.detail}"))

    def teardown(self) -> None:
        p, stack = self.progress, self.stack
        with p.stage("Tear down" + (" (--keep)" if self.args.keep else "")):
            if self.gateway is not None:
                self.gateway.stop()
            if self.host is not None:
                self.host.stop()
            if self.github is not None:
                self.github.close()
            if self.args.keep and stack.moto_alive() and stack.terraform is not None:
                if stack.standin is not None:
                    stack.standin.stop()
                for line in stack.describe_keep():
                    p.line(f"    {line}")  # even with --quiet: the way back out
                return
            try:
                grace = INTERRUPT_GRACE_SECONDS if self.interrupted else 0.0
                if stack.applied and not stack.moto_alive(grace):
                    p.note(
                        "the moto server has stopped (Ctrl-C reaches it too): all state lived in its memory"
                    )
                elif stack.applied:
                    with p.waiting("terraform destroy"):
                        stack.destroy()
            except KeyboardInterrupt:
                p.warn(
                    "destroy interrupted: stopping the servers (all state lived in the moto server's memory)"
                )
            except TerraformError as exc:
                self.failures.append(f"terraform destroy failed: {str(exc)[:300]}")
                p.error(f"terraform destroy failed: {str(exc)[:300]}")
            finally:
                stack.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    progress = Progress(color=False if args.no_color else None, quiet=args.quiet)
    demo = Demo(args, progress)
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    progress.line(progress.paint(f"ecsrunner demo: the {args.scenario!r} scenario on one machine", "bold"))
    try:
        demo.run()
        demo.verify()
    except KeyboardInterrupt:
        demo.interrupted = True
        demo.failures.append("interrupted")
        progress.error("interrupted: tearing down")
    except (MissingArtefact, WorkDirNotOurs) as exc:
        demo.failures.append(str(exc))
        progress.error(str(exc))
        return 1
    except Exception as exc:
        demo.failures.append(f"{type(exc).__name__}: {exc}")
        progress.error(f"{type(exc).__name__}: {exc}")
    finally:
        try:
            demo.teardown()
        except KeyboardInterrupt:
            progress.error("interrupted again during teardown")
    return finish(demo, progress, args)


def finish(demo: Demo, progress: Progress, args: argparse.Namespace) -> int:
    facts = demo._facts
    if facts is None:
        progress.error("the demo stopped early: " + "; ".join(demo.failures))
        progress.line(f"logs: {demo.run_dir / 'logs'}")
        return 1
    facts.extra_failures = list(demo.failures)
    checks = check(facts)
    data = summary(facts, checks, stages=progress.stages, wall_seconds=progress.elapsed())
    data["logs"] = {
        "directory": str(demo.run_dir / "logs"),
        "functions": [str(w.log_path) for w in demo.host.workers.values()] if demo.host else [],
    }
    (demo.run_dir / "summary.json").write_text(json.dumps(data, indent=2))
    if args.json_summary:
        args.json_summary.write_text(json.dumps(data, indent=2))
    progress.line()
    progress.line(progress.paint("Summary", "bold"))
    for line in format_summary(data):
        progress.line(f"  {line}".rstrip())
    progress.line(f"  logs: {data['logs']['directory']} (function logs: "
                  f"{', '.join(Path(f).name for f in data['logs']['functions'])})")  # fmt: skip
    failed = [c for c in checks if not c.ok]
    if failed:
        progress.error(
            f"{len(failed)} check(s) failed: " + "; ".join(f"{c.name} ({c.detail})" for c in failed)
        )
        return 1
    progress.line(progress.paint(f"demo OK in {data['wall_seconds']:.0f}s", "green", "bold"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
