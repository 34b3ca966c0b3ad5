"""Helpers of the lifecycle flow tests (import as ``tests.lifecycle.support``).

A :class:`World` is one deployment provisioned with boto3 on in-process moto, the real
``GitHubClient`` talking to the OpenAPI-validated GitHub stand-in, and the core's ``Services`` with a
:class:`FakeClock`. Every AWS call the code under test makes is recorded (``world.calls``); the test's
own reads go through a second, unrecorded session (``world.aws``).

Events are built from the real samples in ``tests/fixtures`` and change only ids, ARNs, labels,
runner fields, actions, statuses, stop codes and exit codes (see ``tests/fixtures/README.md``).
"""

from __future__ import annotations

import base64
import copy
import json
import random
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.awsrequest import AWSResponse, HTTPHeaders
from ecsrunner_core.adapters.dynamodb_codec import COUNTER_KEY, JOB_PREFIX, deserialize
from ecsrunner_core.adapters.dynamodb_store import DynamoDbStore
from ecsrunner_core.adapters.github import GitHubClient, PatAuth
from ecsrunner_core.adapters.github.auth import credentials_from_secret
from ecsrunner_core.domain.image_ref import parse_image_reference
from ecsrunner_core.domain.names import derive_image_tag
from ecsrunner_core.domain.runner import RunnerRecord
from ecsrunner_core.settings import Settings
from ecsrunner_core.usecases.context import Deadline, Deps
from ecsrunner_core.usecases.dispatch import handle_control_plane_event
from ecsrunner_core.usecases.launch import JIT_ENV_VAR
from ecsrunner_core.webhook import sign
from ecsrunner_core.wiring import LazyGitHub, Services
from ecsrunner_sandbox.github_runner_sim import RunnerSimulator
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn
from ecsrunner_sandbox.provision import Deployment, provision

from tests.support.fakes import FakeClock

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
REPO = "octo-org/octo-repo"
ORG = "octo-org"
REGION = "us-east-1"
OUR_LABELS = ("self-hosted", "linux")
JIT_OPERATIONS = ("actions/generate-runner-jitconfig-for-repo", "actions/generate-runner-jitconfig-for-org")
READ_ONLY_PREFIXES = ("Get", "Describe", "List", "BatchGet", "Query", "Scan")
# A (fake) image manifest, as ecsrunner_sandbox.provision.push_image writes one.
IMAGE_MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7023,
            "digest": "sha256:" + "a" * 64,
        },
        "layers": [],
    }
)


@cache
def _fixture_text(relative: str) -> str:
    return (FIXTURES / relative).read_text(encoding="utf-8-sig")


def fixture_json(relative: str) -> Any:
    """A fresh copy of a fixture file (tests may change it)."""
    return json.loads(_fixture_text(relative))


def fixture_object(relative: str) -> dict[str, Any]:
    loaded = fixture_json(relative)
    assert isinstance(loaded, dict)
    return loaded


@cache
def _shared_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def new_session() -> boto3.Session:
    """A boto3 session of its own (own event hooks) that shares the parsed service models."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader())
    return boto3.Session(botocore_session=core, region_name=REGION)


class CachingSession(boto3.Session):
    """A session that keeps one client per service and config for the whole process.

    Creating a botocore client costs tens of milliseconds, and moto's mock serves clients created
    before the current ``mock_aws`` too (its stubber is a built-in handler of every session).
    """

    def __init__(self) -> None:
        core = botocore.session.get_session()
        core.register_component("data_loader", _shared_loader())
        super().__init__(botocore_session=core, region_name=REGION)
        self._clients: dict[tuple[str, int], Any] = {}

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
        key = (service_name, id(kwargs.get("config")))
        if key not in self._clients:
            self._clients[key] = super().client(service_name, *args, **kwargs)  # type: ignore[call-overload]
        return self._clients[key]


@cache
def own_session() -> CachingSession:
    """The tests' own session: provisioning and assertions (not recorded)."""
    return CachingSession()


@cache
def code_session() -> tuple[CachingSession, AwsRecorder]:
    """The session of the code under test, with its recorder (registered before any client exists:
    clients copy the session's event handlers when they are created)."""
    session = CachingSession()
    return session, AwsRecorder(session)


# --- recording and failing AWS calls ----------------------------------------------------------


@dataclass
class AwsCall:
    service: str
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"

    @property
    def mutating(self) -> bool:
        return not self.operation.startswith(READ_ONLY_PREFIXES)


Action = Callable[[dict[str, Any]], Any]


@dataclass
class Fault:
    """Answers ``times`` matching calls instead of AWS: ``action(params)`` returns a response
    (see :func:`aws_response`) or raises."""

    operation: str  # "ecs.RunTask"
    action: Action
    when: Callable[[dict[str, Any]], bool] = lambda params: True
    times: int = 1
    fired: int = 0


class AwsRecorder:
    """Every call made through ``session``: its API parameters, its parsed response; and faults."""

    def __init__(self, session: boto3.Session) -> None:
        self.calls: list[AwsCall] = []
        self.faults: list[Fault] = []
        self._current = threading.local()  # the janitor launches on several threads
        self._lock = threading.Lock()
        session.events.register("provide-client-params.*.*", self._params)
        session.events.register("before-call.*.*", self._before)
        session.events.register("after-call.*.*", self._after)

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        call = AwsCall(model.service_model.service_name, model.name, copy.deepcopy(params))
        self._current.call = call
        with self._lock:
            self.calls.append(call)

    def _before(self, model: Any, **_: Any) -> Any:
        call: AwsCall = self._current.call
        for fault in self.faults:
            if fault.operation == call.name and fault.fired < fault.times and fault.when(call.params):
                fault.fired += 1
                return fault.action(call.params)
        return None

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self._current.call.response = parsed

    def reset(self) -> None:
        self.calls.clear()
        self.faults.clear()

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int = 0) -> list[AwsCall]:
        return self.calls[mark:]

    def names(self, mark: int = 0) -> list[str]:
        return [call.name for call in self.since(mark)]

    def of(self, name: str, mark: int = 0) -> list[AwsCall]:
        return [call for call in self.since(mark) if call.name == name]

    def mutations(self, mark: int = 0) -> list[str]:
        return [call.name for call in self.since(mark) if call.mutating]


def aws_response(parsed: dict[str, Any], status: int = 200) -> tuple[AWSResponse, dict[str, Any]]:
    """What a ``before-call`` handler returns to stand in for AWS's answer (as botocore's Stubber)."""
    parsed = {**parsed, "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "fault-injected"}}
    return AWSResponse("https://fault.invalid", status, HTTPHeaders(), None), parsed


def client_error(code: str, message: str, status: int = 400) -> Action:
    return lambda params: aws_response({"Error": {"Code": code, "Message": message}}, status)


class SimulatedCrash(BaseException):
    """The invocation dies here (a Lambda timeout or crash): nothing in the core catches it."""


def crash(params: dict[str, Any]) -> Any:
    raise SimulatedCrash


# --- metrics ----------------------------------------------------------------------------------


@dataclass
class RecordingMetrics:
    counts: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)
    timings: list[tuple[str, float]] = field(default_factory=list)
    timing_dimensions: list[dict[str, str]] = field(default_factory=list)

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        self.counts.append((name, value, dimensions))

    def seconds(self, name: str, value: float, **dimensions: str) -> None:
        self.timings.append((name, value))
        self.timing_dimensions.append(dimensions)

    def total(self, name: str, **dimensions: str) -> int:
        return sum(
            value
            for metric, value, dims in self.counts
            if metric == name and all(dims.get(k) == v for k, v in dimensions.items())
        )


@dataclass
class RecordingWaker:
    """The Waker port: what the control plane asked for (the janitor now, or at a time)."""

    now: int = 0
    at: list[datetime] = field(default_factory=list)

    def wake_now(self) -> None:
        self.now += 1

    def wake_at(self, when: datetime) -> None:
        self.at.append(when)


# --- GitHub time ------------------------------------------------------------------------------


@dataclass
class GitHubTime:
    """The GitHub client's monotonic clock and sleep: sleeping moves it on at once."""

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# --- events from the real samples -------------------------------------------------------------


def retarget_repository(payload: dict[str, Any], full_name: str) -> None:
    owner, name = full_name.split("/", 1)
    repository = payload["repository"]
    repository.update(full_name=full_name, name=name)
    repository["owner"]["login"] = owner
    if isinstance(payload.get("organization"), dict):
        payload["organization"]["login"] = owner


EXAMPLES = {
    "queued": "workflow_job.queued.json",
    "in_progress": "workflow_job.in_progress.json",
    "completed": "workflow_job.completed.success.with-organization.json",
    "completed:failure": "workflow_job.completed.failure.with-organization.json",
    "waiting": "workflow_job.waiting.json",
    "queued:deployment": "workflow_job.queued.with-deployment.json",
}


def job_payload(
    example: str,
    *,
    job_id: int,
    labels: tuple[str, ...] | list[str] = OUR_LABELS,
    repository: str = REPO,
    runner_name: str | None = None,
    runner_id: int | None = None,
    keep_runner_fields: bool = False,
) -> dict[str, Any]:
    """A ``workflow_job`` payload from GitHub's example ``example`` (a key of :data:`EXAMPLES`)
    with the job id, labels, repository and runner fields changed."""
    payload = fixture_object(f"github/webhooks/{EXAMPLES[example]}")
    retarget_repository(payload, repository)
    job = payload["workflow_job"]
    job["id"] = job_id
    job["labels"] = list(labels)
    if not keep_runner_fields:
        job["runner_name"] = runner_name
        job["runner_id"] = runner_id
        if runner_name is None:
            job["runner_group_id"] = None
            job["runner_group_name"] = None
    return payload


def api_gateway_event(
    body: bytes,
    headers: dict[str, str],
    *,
    method: str = "POST",
    path: str = "/webhook",
    base64_body: bool = False,
    request_id: str = "req-1",
) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event from the AWS docs sample, as API Gateway delivers GitHub's
    POST: lower-case header names, the raw body (base64 when ``base64_body``)."""
    event = fixture_object("aws/apigateway/http-api.v2.docs.json")
    event["rawPath"] = path
    event["headers"] = {name.lower(): value for name, value in headers.items()}
    event["body"] = base64.b64encode(body).decode() if base64_body else body.decode("utf-8")
    event["isBase64Encoded"] = base64_body
    event["requestContext"]["http"].update(method=method, path=path, userAgent="GitHub-Hookshot/0ab7a43")
    event["requestContext"]["requestId"] = request_id
    return event


def github_headers(event: str, body: bytes, secret: bytes | None, delivery: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/0ab7a43",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-GitHub-Hook-ID": "1",
    }
    if secret is not None:
        headers["X-Hub-Signature-256"] = sign(secret, body)
    return headers


def ecs_task_event(
    *,
    cluster_arn: str,
    task_arn: str,
    last_status: str,
    started_by: str | None,
    stop_code: str | None = None,
    stopped_reason: str | None = None,
    exit_code: int | None = None,
    container_name: str = "runner",
) -> dict[str, Any]:
    """An ECS Task State Change from the AWS docs example (Fargate, RUNNING).

    Changed: ids/ARNs, ``lastStatus``/``desiredStatus`` (also of the container), ``startedBy`` (the
    key of the 2019 docs example), and for STOPPED ``stopCode``/``stoppedReason`` (keys of the Fargate
    Spot docs example) and the container's ``exitCode`` (key of the 2019 docs example).
    """
    event = fixture_object("aws/events/ecs-task-state-change.running.docs.json")
    account, region = cluster_arn.split(":")[4], cluster_arn.split(":")[3]
    event.update(account=account, region=region, resources=[task_arn])
    detail = event["detail"]
    stopped = last_status == "STOPPED"
    detail.update(clusterArn=cluster_arn, taskArn=task_arn, lastStatus=last_status)
    detail["desiredStatus"] = "STOPPED" if stopped else "RUNNING"
    if started_by is not None:
        detail["startedBy"] = started_by
    container = detail["containers"][0]
    container.update(name=container_name, taskArn=task_arn, lastStatus="STOPPED" if stopped else last_status)
    detail["overrides"]["containerOverrides"][0]["name"] = container_name
    if stop_code is not None:
        detail["stopCode"] = stop_code
    if stopped_reason is not None:
        detail["stoppedReason"] = stopped_reason
    if exit_code is not None:
        container["exitCode"] = exit_code
    return event


def build_event(
    *,
    build_arn: str,
    project: str,
    status: str,
    image_tag: str | None = None,
) -> dict[str, Any]:
    """A CodeBuild Build State Change from the AWS docs example (SUCCEEDED).

    Changed: ids/ARNs, project name and ``build-status``; with ``image_tag``, one entry in
    ``environment-variables`` shaped as in the aws-lambda-go sample.
    """
    event = fixture_object("aws/events/codebuild-build-state-change.succeeded.docs.json")
    parts = build_arn.split(":")
    event.update(account=parts[4], region=parts[3], resources=[build_arn])
    detail = event["detail"]
    detail.update({"build-status": status, "project-name": project, "build-id": build_arn})
    if image_tag is not None:
        detail["additional-information"]["environment"]["environment-variables"] = [
            {"name": "IMAGE_TAG", "type": "PLAINTEXT", "value": image_tag}
        ]
    return event


# --- the world --------------------------------------------------------------------------------


@dataclass
class World:
    deployment: Deployment
    session: boto3.Session  # the code under test's session (recorded, may fail on purpose)
    aws: CachingSession  # the test's own session (not recorded)
    clock: FakeClock
    github: GitHubStandIn
    github_time: GitHubTime
    metrics: RecordingMetrics
    recorder: AwsRecorder
    services: Services = field(init=False)
    sim: RunnerSimulator = field(init=False)
    _job_ids: Iterator[int] = field(init=False)
    _deliveries: Iterator[int] = field(init=False)

    def __post_init__(self) -> None:
        settings = self.deployment.settings
        self.services = Services(settings, self.session, clock=self.clock, metrics=self.metrics)
        self.services.github = self.github_client()  # inject the port: the real client
        self.sim = RunnerSimulator(self.github.state)
        self._job_ids = iter(range(7_000_000_001, 8_000_000_000))
        self._deliveries = iter(range(1, 1_000_000))

    def github_client(self, credentials: str | None = None) -> GitHubClient:
        """The real client on the fake timeline, with the stand-in's PAT or ``credentials`` (JSON)."""
        settings = self.settings
        scope = (
            {"scope_org": settings.github_org}
            if settings.github_org
            else {"scope_repo": settings.github_repo}
        )
        auth = credentials_from_secret(credentials) if credentials else PatAuth(DEFAULT_PAT)
        return GitHubClient(
            self.github.api_url,
            auth,
            budget_seconds=5.0,
            sleep=self.github_time.sleep,
            clock=self.github_time.monotonic,
            wall_clock=lambda: self.clock.now().timestamp(),
            rng=random.Random(7),
            **scope,
        )

    def use_secret_credentials(self) -> None:
        """Read the GitHub credentials from Secrets Manager, as deployed: a 401 reads them again."""
        secrets = self.services.secrets

        def factory(reload: bool) -> GitHubClient:
            return self.github_client(secrets.github_credentials(refresh=reload))

        self.services.github = LazyGitHub(
            factory, metrics=self.metrics, monotonic=lambda: self.clock.now().timestamp()
        )

    # --- handles ---------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.deployment.settings

    @property
    def calls(self) -> AwsRecorder:
        return self.recorder

    def deps(self) -> Deps:
        return self.services.deps()

    def client(self, service: str) -> Any:
        """A client of the test's own session."""
        return self.aws.client(service)

    def store(self) -> DynamoDbStore:
        """The real store on the test's own (unrecorded) session, for assertions."""
        return DynamoDbStore(
            self.client("dynamodb"),
            self.settings.runner_table,
            self.clock,
            max_runners=self.settings.max_runners,
        )

    def record(self, runner_name: str) -> RunnerRecord:
        record = self.store().get(runner_name)
        assert record is not None, f"no record for {runner_name}"
        return record

    def record_for_job(self, job_id: int) -> RunnerRecord | None:
        return self.store().get_by_job(job_id)

    def next_job_id(self) -> int:
        return next(self._job_ids)

    # --- DynamoDB contents -----------------------------------------------------------------

    def items(self) -> list[dict[str, Any]]:
        db = self.client("dynamodb")
        pages = db.get_paginator("scan").paginate(TableName=self.settings.runner_table, ConsistentRead=True)
        return [deserialize(item) for page in pages for item in page["Items"]]

    def runner_items(self) -> list[dict[str, Any]]:
        return [item for item in self.items() if item["pk"].startswith("RUNNER#")]

    def job_guards(self) -> list[dict[str, Any]]:
        return [item for item in self.items() if item["pk"].startswith(JOB_PREFIX)]

    def counter(self) -> int:
        for item in self.items():
            if item["pk"] == COUNTER_KEY:
                return int(item.get("active", 0))
        return 0

    def assert_counter_matches_slots(self) -> int:
        holders = sum(1 for item in self.runner_items() if item.get("holds_slot"))
        assert self.counter() == holders, f"counter {self.counter()} != {holders} slot holders"
        return holders

    # --- ECS and S3 contents ---------------------------------------------------------------

    def tasks(self, desired: str | None = None) -> list[dict[str, Any]]:
        ecs = self.client("ecs")
        kwargs: dict[str, Any] = {"cluster": self.settings.cluster_arn}
        if desired:
            kwargs["desiredStatus"] = desired
        arns = ecs.list_tasks(**kwargs)["taskArns"]
        if not arns:
            return []
        described = ecs.describe_tasks(cluster=self.settings.cluster_arn, tasks=arns, include=["TAGS"])
        return list(described["tasks"])

    def task(self, task_arn: str) -> dict[str, Any]:
        ecs = self.client("ecs")
        tasks = ecs.describe_tasks(cluster=self.settings.cluster_arn, tasks=[task_arn], include=["TAGS"])[
            "tasks"
        ]
        assert tasks, f"no task {task_arn}"
        return dict(tasks[0])

    def jit_key(self, runner_name: str) -> str:
        return f"jit/{runner_name}.env"

    def jit_object(self, runner_name: str) -> dict[str, Any] | None:
        s3 = self.client("s3")
        try:
            return dict(s3.get_object(Bucket=self.settings.jit_bucket, Key=self.jit_key(runner_name)))
        except s3.exceptions.NoSuchKey:
            return None

    def jit_config(self, runner_name: str) -> str:
        """The encoded JIT config in the runner's environment file (what the ECS agent reads)."""
        found = self.jit_object(runner_name)
        assert found is not None, f"no JIT object for {runner_name}"
        line: str = found["Body"].read().decode()
        name, _, value = line.rstrip("\n").partition("=")
        assert name == JIT_ENV_VAR
        return value

    # --- images ----------------------------------------------------------------------------

    def image_tag(self, base_image: str | None = None, architecture: str = "x86_64") -> str:
        reference = parse_image_reference(base_image or self.settings.default_base_image)
        return derive_image_tag(reference.canonical, self.settings.build_context_digest, architecture)

    def push_image(self, base_image: str | None = None, architecture: str = "x86_64") -> str:
        tag = self.image_tag(base_image, architecture)
        repository = self.settings.ecr_repository_url.split("/", 1)[1]
        self.client("ecr").put_image(repositoryName=repository, imageManifest=IMAGE_MANIFEST, imageTag=tag)
        return tag

    # --- inputs ----------------------------------------------------------------------------

    def webhook(
        self,
        event: str,
        payload: dict[str, Any] | bytes,
        *,
        signed: bool = True,
        delivery: str | None = None,
        deadline: Deadline | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Deliver a webhook through the control plane's routing; returns the HTTP response.

        GitHub's examples are from 2021-2023: a ``workflow_job`` keeping its example ``created_at``
        (when GitHub queued the job) gets the world's clock instead; a test's own time is kept.
        """
        if isinstance(payload, dict) and isinstance(payload.get("workflow_job"), dict):
            job = payload["workflow_job"]
            if str(job.get("created_at", "")) < "2024":
                job["created_at"] = self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        secret = self.deployment.webhook_secret.encode() if signed else None
        delivery = delivery or f"d{next(self._deliveries):08d}-0000-11ee-8000-000000000000"
        apigw = api_gateway_event(body, github_headers(event, body, secret, delivery), **options)
        return handle_control_plane_event(self.deps(), apigw, deadline)

    def queue(
        self, labels: tuple[str, ...] | list[str] = OUR_LABELS, job_id: int | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Deliver a ``queued`` workflow_job; returns (job id, response)."""
        job_id = job_id or self.next_job_id()
        return job_id, self.webhook("workflow_job", job_payload("queued", job_id=job_id, labels=labels))

    def queue_runner(self, labels: tuple[str, ...] | list[str] = OUR_LABELS) -> RunnerRecord:
        job_id, response = self.queue(labels)
        assert response["statusCode"] == 200, response
        record = self.record_for_job(job_id)
        assert record is not None
        return record

    def configure(self, **changes: Any) -> Settings:
        """Change the deployment's settings (as a new Lambda configuration would)."""
        settings = replace(self.deployment.settings, **changes)
        self.deployment = replace(self.deployment, settings=settings)
        self.services.settings = settings
        for adapter in ("launcher", "registry", "builder", "jit", "waker"):  # a new container's
            self.services.__dict__.pop(adapter, None)
        return settings

    def deliver_to_control_plane(self, event: str, body: bytes, headers: Mapping[str, str]) -> int:
        """A GitHub hook's target: the control plane, as API Gateway invokes it."""
        apigw = api_gateway_event(body, {str(k): str(v) for k, v in headers.items()})
        return int(handle_control_plane_event(self.deps(), apigw)["statusCode"])

    def connect_repository_hook(self) -> Any:
        """The repository's webhook on the stand-in, delivering to the control plane; the deployment
        knows its id (``webhook_hook_id``), so the janitor can redeliver its failed deliveries."""
        hook = self.github.hooks.repository_hook(
            REPO, self.deliver_to_control_plane, secret=self.deployment.webhook_secret.encode()
        )
        self.configure(webhook_hook_id=hook.id)
        return hook

    def queue_on_github(self, labels: tuple[str, ...] | list[str] = OUR_LABELS) -> RunnerRecord:
        """A job GitHub holds queued (the stand-in knows it) and its ``queued`` delivery; its runner."""
        job = self.sim.queue_job(REPO, list(labels))
        response = self.webhook("workflow_job", self.sim.payload(job, "queued"))
        assert response["statusCode"] == 200, response
        record = self.record_for_job(job.id)
        assert record is not None
        return record

    def job_event(
        self, action: str, *, job_id: int, runner_name: str | None, **options: Any
    ) -> dict[str, Any]:
        payload = job_payload(
            action, job_id=job_id, runner_name=runner_name, runner_id=options.pop("runner_id", None)
        )
        return self.webhook("workflow_job", payload, **options)

    def ecs_event(
        self, task_arn: str, last_status: str, *, started_by: str | None, **options: Any
    ) -> dict[str, Any]:
        cluster = options.pop("cluster_arn", self.settings.cluster_arn)
        event = ecs_task_event(
            cluster_arn=cluster, task_arn=task_arn, last_status=last_status, started_by=started_by, **options
        )
        return handle_control_plane_event(self.deps(), event)

    def task_running(self, record: RunnerRecord) -> dict[str, Any]:
        assert record.task_arn
        return self.ecs_event(record.task_arn, "RUNNING", started_by=record.runner_name)

    def task_stopped(self, record: RunnerRecord, **options: Any) -> dict[str, Any]:
        assert record.task_arn
        options.setdefault("stop_code", "EssentialContainerExited")
        options.setdefault("stopped_reason", "Essential container in task exited")
        options.setdefault("exit_code", 0)
        return self.ecs_event(record.task_arn, "STOPPED", started_by=record.runner_name, **options)

    def build_arn(self, build_id: str) -> str:
        return f"arn:aws:codebuild:{self.deployment.region}:{self.deployment.account}:build/{build_id}"

    def build_event(self, build_id: str, status: str, **options: Any) -> dict[str, Any]:
        event = build_event(
            build_arn=self.build_arn(build_id),
            project=self.settings.codebuild_project_name,
            status=status,
            **options,
        )
        return handle_control_plane_event(self.deps(), event)


MakeWorld = Callable[..., World]
"""The ``make_world`` fixture: provisions a world with ``Settings`` overrides."""


def deploy_world(
    github: GitHubStandIn,
    clock: FakeClock,
    *,
    github_org: str | None = None,
    push_default_image: bool = True,
    **overrides: Any,
) -> World:
    """Provision a deployment on the active moto backend for ``github`` (a started stand-in) and wrap
    it in a :class:`World`; ``overrides`` go to ``provision`` (``Settings`` fields)."""
    aws = own_session()
    overrides.setdefault("github_credentials", json.dumps({"type": "pat", "token": DEFAULT_PAT}))
    # One janitor launch at a time, so that a seeded run repeats exactly (concurrent launches have
    # their own test: each claims its record, so none is launched twice).
    overrides.setdefault("launch_concurrency", 1)
    deployment = provision(
        aws,
        github_api_url=github.api_url,
        github_repo=None if github_org else REPO,
        github_org=github_org,
        **overrides,
    )
    session, recorder = code_session()
    recorder.reset()
    world = World(
        deployment=deployment,
        session=session,
        aws=aws,
        clock=clock,
        github=github,
        github_time=GitHubTime(),
        metrics=RecordingMetrics(),
        recorder=recorder,
    )
    if push_default_image:
        world.push_image()
    return world
