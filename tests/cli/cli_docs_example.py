"""Write docs/cli.md from real runs of ``python -m ecsrunner`` against a moto server.

    .venv/bin/python tests/cli/cli_docs_example.py [docs/cli.md]

The deployment is provisioned with boto3 (devtools/ecsrunner_sandbox/provision.py), GitHub is the
stand-in, the webhook endpoint runs the control plane's webhook use case, and every command runs
as a subprocess exactly as an operator types it. moto's CodeBuild never pushes an image: this
script pushes the tag to ECR where a real build would.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "devtools"), str(ROOT)]

import boto3  # noqa: E402
from ecsrunner import clients  # noqa: E402
from ecsrunner.app import main as cli_main  # noqa: E402
from ecsrunner_core.domain.names import derive_image_tag, new_runner_name  # noqa: E402
from ecsrunner_core.domain.runner import HistoryEntry, RunnerRecord, new_runner_record  # noqa: E402
from ecsrunner_core.domain.status import RunnerStatus  # noqa: E402
from ecsrunner_core.ports import TaskRequest  # noqa: E402
from ecsrunner_core.settings import Settings  # noqa: E402
from ecsrunner_core.usecases.webhook import WebhookRequest, handle_webhook  # noqa: E402
from ecsrunner_core.wiring import Services  # noqa: E402
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn, serving  # noqa: E402
from ecsrunner_sandbox.github_state import repo_scope  # noqa: E402
from ecsrunner_sandbox.moto_server import MotoServer, moto_server  # noqa: E402
from ecsrunner_sandbox.portable_paths import relative_text  # noqa: E402
from ecsrunner_sandbox.provision import Deployment, provision, push_image  # noqa: E402

from tests.cli.cli_servers import Received, Reply, serve  # noqa: E402
from tests.cli.conftest import settings_environment  # noqa: E402

REPO = "octo-org/octo-repo"
WEBHOOK_SECRET = "docs-webhook-secret"
S = RunnerStatus


def record(
    name: str, job_id: int, age: timedelta, path: list[tuple[S, str]], **fields: object
) -> RunnerRecord:
    created = datetime.now(UTC) - age
    first_reason = f"job {job_id} queued"
    image = str(fields.pop("image", "docker.io/library/ubuntu:22.04"))
    runner = new_runner_record(
        runner_name=name,
        job_id=job_id,
        repository=REPO,
        labels=("self-hosted", "linux", *fields.pop("extra_labels", ())),  # type: ignore[misc]
        at=created,
        reason=first_reason,
        class_name=fields.pop("class_name", "medium"),
        image=image,
        image_tag=derive_image_tag(image, "sha256:sandbox", "x86_64"),
        architecture="x86_64",
    )
    history = list(runner.history)
    for step, (status, reason) in enumerate(path, start=1):
        history.append(HistoryEntry(status, created + age * step / (len(path) + 1), reason))
    last = history[-1]
    return replace(
        runner,
        status=last.status,
        status_reason=last.reason,
        history=tuple(history),
        updated_at=last.at,
        workflow_name="CI",
        job_name=f"build ({job_id % 3})",
        run_id=9_000_000_000 + job_id,
        run_url=f"https://github.com/{REPO}/actions/runs/{9_000_000_000 + job_id}/job/{job_id}",
        **fields,  # type: ignore[arg-type]
    )


def fleet(services: Services, github: GitHubStandIn) -> dict[str, str]:
    """A realistic mix of runners; returns names worth showing."""
    settings = services.settings
    names = {key: new_runner_name(settings.name) for key in ("running", "waiting", "image", "failed", "done")}
    task = services.launcher.run_task(
        TaskRequest(
            runner_name=names["running"],
            task_definition_arn=settings.base_task_definition_arn,
            cpu=1024,
            memory=4096,
            spot=False,
            environment_file_arn=services.jit.put(names["running"], "ACTIONS_RUNNER_INPUT_JITCONFIG=sandbox"),
            tags={"ecsrunner:runner-name": names["running"]},
            client_token=names["running"],
        )
    )
    registered = github.state.register_runner(
        repo_scope(REPO),
        names["running"],
        labels=("self-hosted",),
        group_id=1,
        work_folder="_work",
        secret="x",
    )
    assert registered is not None
    records = [
        record(
            names["running"],
            30000000101,
            timedelta(minutes=42, seconds=10),
            [(S.WAITING_FOR_JOB, "task RUNNING"), (S.RUNNING, "job 30000000101 started")],
            task_arn=task,
            github_runner_id=registered.id,
            attempts=1,
        ),
        record(
            names["waiting"],
            30000000102,
            timedelta(minutes=3, seconds=5),
            [(S.WAITING_FOR_JOB, "task RUNNING")],
            run_job_id=None,
            attempts=1,
        ),
        record(
            names["image"],
            30000000103,
            timedelta(minutes=6, seconds=40),
            [(S.IMAGE_CREATING, "waiting for the runner image build of docker.io/library/node:20")],
            image="docker.io/library/node:20",
        ),
        record(
            names["failed"],
            30000000099,
            timedelta(hours=5, minutes=12),
            [
                (
                    S.FAILED,
                    "unknown class 'xlarge' (label 'class:xlarge'); defined classes: large, medium, small",
                )
            ],
            class_name=None,
            extra_labels=("class:xlarge",),
        ),
        record(
            names["done"],
            30000000097,
            timedelta(hours=7, minutes=3),
            [
                (S.WAITING_FOR_JOB, "task RUNNING"),
                (S.RUNNING, "job 30000000098 started"),
                (S.OFFLINE, "job 30000000098 completed (success)"),
            ],
            run_job_id=30000000098,
            conclusion="success",
            attempts=1,
        ),
    ]
    for item in records:
        assert services.store.create(item)
    return names


LOG_GROUP = "/ecsr/runners"


def with_runner_logs(session: boto3.Session, deployment: Deployment) -> Deployment:
    """The module's runner log group and a base task definition logging to it, as modules/ecs-fleet has."""
    session.client("logs").create_log_group(logGroupName=LOG_GROUP)
    ecs = session.client("ecs")
    base = ecs.describe_task_definition(taskDefinition=deployment.settings.base_task_definition_arn)
    definition = base["taskDefinition"]
    options = {
        "awslogs-group": LOG_GROUP,
        "awslogs-region": deployment.region,
        "awslogs-stream-prefix": "runner",
    }
    containers = [
        {**c, "logConfiguration": {"logDriver": "awslogs", "options": options}}
        for c in definition["containerDefinitions"]
    ]
    arn = ecs.register_task_definition(
        family=definition["family"],
        requiresCompatibilities=definition["requiresCompatibilities"],
        networkMode=definition["networkMode"],
        cpu=definition["cpu"],
        memory=definition["memory"],
        executionRoleArn=definition["executionRoleArn"],
        taskRoleArn=definition["taskRoleArn"],
        containerDefinitions=containers,
    )["taskDefinition"]["taskDefinitionArn"]
    settings = replace(deployment.settings, base_task_definition_arn=arn, log_group_name=LOG_GROUP)
    return replace(deployment, settings=settings)


def write_runner_log(session: boto3.Session, settings: Settings, services: Services, name: str) -> None:
    """What the awslogs driver ships for a runner container (ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT=1)."""
    record = services.store.get(name)
    assert record is not None and record.task_arn is not None
    stream = f"runner/{settings.container_name}/{record.task_arn.rsplit('/', 1)[-1]}"
    logs = session.client("logs")
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    started = record.created_at + timedelta(seconds=50)
    lines = [
        (0, "√ Connected to GitHub"),
        (0, "Current runner version: '2.337.0'"),
        (1, "[RUNNER {at:%Y-%m-%d %H:%M:%SZ} INFO Runner] Listener started; waiting for a job"),
        (1, "{at:%Y-%m-%d %H:%M:%SZ}: Listening for Jobs"),
        (4, "{at:%Y-%m-%d %H:%M:%SZ}: Running job: build (2)"),
    ]
    events = []
    for seconds, line in lines:
        at = started + timedelta(seconds=seconds)
        events.append({"timestamp": int(at.timestamp() * 1000), "message": line.format(at=at)})
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream, logEvents=events)


@contextmanager
def control_plane(services: Services) -> Iterator[str]:
    deps = services.deps()

    def answer(request: Received) -> Reply:
        response = handle_webhook(deps, WebhookRequest(request.headers, request.body))
        return response.status, json.dumps(response.body).encode()

    with serve(answer) as server:
        yield f"{server.url}/webhook"


class Runner:
    """Runs the CLI as an operator would and collects the markdown."""

    def __init__(self, server: MotoServer, deployment: Deployment) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NO_COLOR", "DOCKER_"))}
        self.env.update(server.client_environment())
        self.env.update(settings_environment(deployment.settings))
        self.env["COLUMNS"] = "160"
        self.env["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
        self.sections: list[str] = []

    def run(self, *argv: str, env: dict[str, str] | None = None, shown: str | None = None) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "ecsrunner", *argv],
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # interleaved, as on a terminal
            text=True,
            timeout=300,
            check=False,
        )
        self.show(shown or "python -m ecsrunner " + " ".join(argv), done.stdout, done.returncode)

    def run_with_build(self, session: boto3.Session, settings: Settings, *argv: str) -> None:
        """In-process, so that a hook can push the image when the CLI starts the build (moto does not)."""

        def build_pushes(params: dict[str, Any], **_: Any) -> None:
            env = {v["name"]: v["value"] for v in params["environmentVariablesOverride"]}
            push_image(session, settings, env["IMAGE_TAG"])

        def hooked(region: str | None, profile: str | None) -> boto3.Session:
            created = real(region, profile)
            created.events.register("before-parameter-build.codebuild.StartBuild", build_pushes)
            return created

        real = clients.new_session
        output = io.StringIO()
        saved_env, saved_out, saved_err = dict(os.environ), sys.stdout, sys.stderr
        os.environ.update(self.env)
        clients.new_session = hooked  # type: ignore[assignment]
        sys.stdout = sys.stderr = output
        try:
            code = cli_main(list(argv))
        finally:
            clients.new_session = real  # type: ignore[assignment]
            os.environ.clear()
            os.environ.update(saved_env)
            sys.stdout, sys.stderr = saved_out, saved_err
        self.show("python -m ecsrunner " + " ".join(argv), output.getvalue(), code)

    def show(self, command: str, output: str, code: int) -> None:
        text = f"```console\n$ {command}\n{output.rstrip()}\n"
        if code:
            text += f"$ echo $?\n{code}\n"
        self.sections.append(text + "```\n")

    def prose(self, text: str) -> None:
        self.sections.append(text.strip("\n") + "\n")


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "cli.md"
    with moto_server() as server, serving() as github:
        for name, value in server.client_environment().items():
            os.environ[name] = value
        session = boto3.Session(region_name=server.region)
        deployment = provision(
            session,
            github_api_url=github.api_url,
            github_credentials=json.dumps({"type": "pat", "token": DEFAULT_PAT}),
            webhook_secret=WEBHOOK_SECRET,
        )
        session.client("dynamodb").update_time_to_live(
            TableName=deployment.settings.runner_table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
        deployment = with_runner_logs(session, deployment)
        services = Services(deployment.settings, session)
        names = fleet(services, github)
        write_runner_log(session, deployment.settings, services, names["running"])
        with control_plane(services) as webhook_url:
            document(Runner(server, deployment), deployment, session, names, webhook_url, target)


def document(
    cli: Runner,
    deployment: Deployment,
    session: boto3.Session,
    names: dict[str, str],
    webhook_url: str,
    target: Path,
) -> None:
    settings = deployment.settings
    payload = "tests/fixtures/github/webhooks/workflow_job.queued.json"
    cli.prose(INTRO)
    cli.prose("## runners list\n\nNewest first; `--status` reads only those partitions of the status index.")
    cli.run("runners", "list")
    cli.run("runners", "list", "--status", "FAILED", "OFFLINE", "--since", "12h")
    cli.prose(
        "`--json` prints the core's runner view (`ecsrunner_core.views.runner_view`), the keys the Lambdas "
        "log; ISO-8601 UTC times, `null` for unknown values:"
    )
    cli.run("runners", "list", "--limit", "1", "--json")
    cli.prose("## runners details")
    cli.run("runners", "details", names["done"])
    cli.prose(STATS)
    cli.run("runners", "stats")
    cli.run("runners", "stats", "--since", "24h", "--price-vcpu-hour", "0.05", "--json")
    cli.prose(STATS_KEYS)
    cli.prose(LOGS)
    cli.run("runners", "logs", names["running"])
    cli.run("runners", "logs", names["running"], "--timestamps", "--limit", "2")
    cli.run("runners", "logs", names["image"])
    cli.run("runners", "logs", names["failed"])
    cli.prose(TERMINATE)
    cli.run("runners", "terminate", names["running"])
    cli.run("runners", "terminate", names["running"], "--yes")
    cli.run("runners", "terminate", names["running"], "--yes")
    cli.run("runners", "terminate", "ecsr-nonexistent", "--yes")
    cli.prose("## classes list (and list-class-sizes)")
    cli.run("classes", "list")
    cli.run("list-class-sizes", "--json")
    cli.prose(IMAGES_BUILD)
    cli.run_with_build(session, settings, "images", "build", "--poll-interval", "1")
    cli.run("images", "build", "ubuntu:22.04")
    cli.run("images", "build", "node:20", "--arch", "arm64", "--no-wait")
    cli.run("images", "build", "Ubuntu:22.04")
    cli.prose(IMAGES_LOCAL)
    cli.run("images", "build", "--local", "node:20")
    cli.prose(
        "## images list\n\nImage records joined with the tags in the ECR repository (PUSHED: in ECR only)."
    )
    push_image(session, settings, "hand-made-x86_64-" + "e" * 40)
    cli.run("images", "list")
    cli.prose("## doctor\n\nExit 0 only when every check passes.")
    cli.run(
        "doctor", "--webhook-url", webhook_url, shown="python -m ecsrunner doctor --webhook-url $WEBHOOK_URL"
    )
    cli.run(
        "doctor",
        env={"RUNNER_TABLE": "ecsr-runnrs"},
        shown="RUNNER_TABLE=ecsr-runnrs python -m ecsrunner doctor",
    )
    cli.prose(WEBHOOK_SEND)
    send = "python -m ecsrunner webhook send --url $WEBHOOK_URL"
    cli.run(
        *("webhook", "send", "--url", webhook_url, "--secret-env", "WEBHOOK_SECRET", "--payload", payload),
        env={"WEBHOOK_SECRET": WEBHOOK_SECRET},
        shown=f"{send} --secret-env WEBHOOK_SECRET --payload {payload}",
    )
    cli.run(
        *("webhook", "send", "--url", webhook_url, "--secret", "not-the-secret", "--payload", payload),
        shown=f"{send} --secret not-the-secret --payload {payload}",
    )
    cli.prose("## Configuration errors\n\nOne line on stderr, exit 1; usage errors exit 2.")
    cli.run(
        "runners",
        "list",
        env={"RUNNER_TABLE": ""},
        shown="env -u RUNNER_TABLE python -m ecsrunner runners list",
    )
    cli.run(
        "runners",
        "list",
        env={"RUNNER_TABLE": "ecsr-runnrs"},
        shown="RUNNER_TABLE=ecsr-runnrs python -m ecsrunner runners list",
    )
    cli.run("runners", "list", "--terraform-dir", "/nonexistent")
    cli.run("runners", "list", "--since", "yesterday")
    target.write_text(relative_text("\n".join(cli.sections), ROOT))
    print(f"wrote {target}")


STATS = """
## runners stats

Runners created within `--since` (default `7d`; records stay `record_retention_days`, 30 by default),
read with one status-index Query per status (never a Scan): jobs, how long a queued job waited for its
runner to start it (from the accepted webhook to the runner's `RUNNING` entry; p50/p90, nearest rank),
failures by kind, runner minutes (the task's `WAITING_FOR_JOB`/`RUNNING` until its end, or until now
for a live runner) and their estimated Fargate cost by repository and by class. Sizes come from the
class sizes parameter (so it needs `RUNNER_TABLE` and `CLASS_SIZES_PARAM`); minutes of a class no
longer defined are reported as unpriced. Prices are the us-east-1 list prices (`FargatePrices` in
`ecsrunner_core.usecases.stats`); a `spot` class is priced with the Spot discount, every task is billed
at least a minute, and Fargate also bills the image pull, which the records do not time: the estimate
is a lower bound. Override the prices for your region with `--price-vcpu-hour`, `--price-gb-hour`,
`--price-arm-vcpu-hour`, `--price-arm-gb-hour` (USD) and `--spot-discount` (0-1).
"""

STATS_KEYS = """
`--json` keys (stable): `since`, `until` (ISO-8601 UTC); `jobs` (distinct job ids), `runners`;
`by_status` (every status, 0 included); `queued_to_running_seconds` {`count`, `p50`, `p90`} (`null`
without data); `failures` {`total`, `by_kind`} with the kinds of the `RunnersFailed` metric (`labels`,
`image`, `task`, `timeout`, `ttl`, `launch`, `other`); `runner_minutes`, `unpriced_minutes`,
`estimated_cost_usd`; `by_repository` [{`repository`, `runners`, `runner_minutes`, `unpriced_minutes`,
`estimated_cost_usd`}] and `by_class` [{`class`, the same, `cpu`, `memory`, `spot`, `architecture`;
`estimated_cost_usd`, `cpu`... `null` for a class no longer defined}], most minutes first; `prices`
{`vcpu_hour`, `gb_hour`, `arm_vcpu_hour`, `arm_gb_hour`, `storage_gb_hour`, `spot_discount`, `region`,
`read_on`}. A runner counts in the repository whose job it ran (`run_job_repository`).
"""

LOGS = """
## runners logs

The runner task's CloudWatch log, as `kubectl logs` prints a pod's: the job's output and, because the
image sets `ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT=1`, the runner's own diagnostic log. The stream is
`<awslogs-stream-prefix>/<container>/<task id>`: the prefix is read from the base task definition's
log configuration (`BASE_TASK_DEFINITION_ARN`, DescribeTaskDefinition; the module sets `runner`), the
container is `RUNNER_CONTAINER_NAME`, the log group `RUNNER_LOG_GROUP` (else the definition's
`awslogs-group`). `--since 10m` and `--limit N` (the last N events) narrow it, `--timestamps` prefixes
each line with its time; `--follow` (`-f`) waits for the task and its stream, prints new lines every
`--poll-interval` seconds (default 2) and stops once the runner is OFFLINE or FAILED. The operator
needs `logs:GetLogEvents` on the group and `ecs:DescribeTaskDefinition`.
"""

TERMINATE = """
## runners terminate

Stops the task, deregisters the GitHub runner, deletes the JIT object and marks the runner OFFLINE
("terminated by operator"); a freed slot goes to the next waiting runner. It asks first on a terminal,
and without one it needs `--yes`. Repeating it changes nothing.
"""

IMAGES_BUILD = """
## images build

Builds the runner image for a base image (default `DEFAULT_BASE_IMAGE`) under the tag the control plane
derives for jobs with that `image:` label, taking the same one-build-per-tag lock. It follows the
CodeBuild build (a spinner on a terminal, a line per phase otherwise; `--no-wait` prints the build id)
and records the image READY. An image already in ECR is recorded, not rebuilt. A malformed reference is
a usage error (exit 2); an image outside `ALLOWED_BASE_IMAGES` is refused (exit 1).
"""

IMAGES_LOCAL = """
`--local` builds `runner/` (or `--context DIR`) with the local Docker engine through the docker SDK
(`DOCKER_HOST`), logs in to ECR, pushes the same tag and records it READY. Without an engine:
"""

WEBHOOK_SEND = """
## webhook send

Signs a payload file with the webhook secret and POSTs it, byte for byte, with GitHub's headers
(`X-GitHub-Event`, `X-GitHub-Delivery`, `X-Hub-Signature-256`); prints the HTTP status and body; exit 0
on 2xx. `--secret-env VAR` keeps the secret out of shell history. It works against a real deployment.
"""

INTRO = """
# The operator's CLI: `python -m ecsrunner`

What is running, what failed and why, in one command; and safe actions on runners and images. The CLI
shares `ecsrunner_core` with the Lambdas: records, statuses, views and use cases are the same code.

Every example below is real output of the CLI against a moto server (generated by
`tests/cli/cli_docs_example.py`; GitHub is the sandbox stand-in).

## Configuration

Precedence: flags > `--terraform-dir DIR` (the module's `terraform output -json`, its `cli_environment`
output) > the environment.

| command | needs |
|---|---|
| `runners list`, `runners details`, `images list` | `RUNNER_TABLE` |
| `runners stats` | `RUNNER_TABLE`, `CLASS_SIZES_PARAM` |
| `runners logs` | `RUNNER_TABLE`, `BASE_TASK_DEFINITION_ARN` (and `RUNNER_LOG_GROUP`) |
| `classes list`, `list-class-sizes` | `CLASS_SIZES_PARAM` |
| `runners terminate`, `images build`, `doctor` | the Lambdas' environment (see docs/DESIGN.md) |

`--region`/`--profile` (or `AWS_PROFILE`) choose the account. The region, as the AWS CLI v2 reads it:
`--region` > the Terraform outputs' region (with `--terraform-dir`) > `AWS_REGION` > `AWS_DEFAULT_REGION`
> the profile's `region`. `AWS_ENDPOINT_URL` is honoured (boto3 reads it), so the CLI works against a
moto server or LocalStack. `--region`, `--profile` and `--terraform-dir` may come before the command,
after it, or both (`python -m ecsrunner --profile ops runners list --region eu-west-1`).

Exit codes: 0 ok, 1 failure, 2 usage. Missing configuration or credentials give one line on stderr,
never a traceback. Colour only on a terminal and never with `NO_COLOR`; on a terminal the REASON column
is cut to the width. `--json` output is stable: the core's views, ISO-8601 UTC times.

```console
$ python -m ecsrunner --terraform-dir examples/complete runners list --status RUNNING
$ RUNNER_TABLE=ecsr-runners AWS_REGION=eu-west-1 python -m ecsrunner runners list --since 2h --json
```
"""


if __name__ == "__main__":
    main()
