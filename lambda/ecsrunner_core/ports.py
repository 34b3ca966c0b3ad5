"""Ports: what the use cases need from the outside world, as Protocols and plain value types.

Adapters in :mod:`ecsrunner_core.adapters` implement them with boto3 and requests; tests implement
them with moto or fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from .domain.classes import ClassSizes
from .domain.images import ImageRecord
from .domain.runner import RunnerRecord
from .domain.status import RunnerStatus

# --- GitHub -----------------------------------------------------------------------------------


class GitHubError(Exception):
    """A GitHub API call failed. ``status`` is the HTTP status, if there was a response."""

    transient = False

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GitHubNotFound(GitHubError):
    """404: the runner, job, repository or installation does not exist (or is not visible)."""


class GitHubRunnerExists(GitHubError):
    """409 from generate-jitconfig: a runner with that name is already registered."""


class GitHubInvalid(GitHubError):
    """422: GitHub refused the request's content."""


class GitHubAuthError(GitHubError):
    """401, or 403 that is not a rate limit: the credentials are wrong or lack permission."""


class GitHubRateLimited(GitHubError):
    """Primary or secondary rate limit still in force when the retry budget ran out."""

    transient = True

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class GitHubUnavailable(GitHubError):
    """5xx, timeouts or connection errors that outlasted the retry budget."""

    transient = True


@dataclass(frozen=True)
class GitHubRunner:
    id: int
    name: str
    status: str
    busy: bool
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class JitConfig:
    runner_id: int
    runner_name: str
    encoded_jit_config: str = field(repr=False)


@dataclass(frozen=True)
class GitHubJob:
    """A workflow job as the REST API reports it (``GET .../actions/jobs/{job_id}``).

    ``status`` is GitHub's: ``queued``, ``in_progress``, ``completed``, ``waiting``, ``requested``
    or ``pending``. ``created_at`` is when GitHub queued the job.
    """

    id: int
    run_id: int
    repository: str
    status: str
    labels: tuple[str, ...] = ()
    conclusion: str | None = None
    runner_id: int | None = None
    runner_name: str | None = None
    name: str | None = None
    workflow_name: str | None = None
    html_url: str | None = None
    created_at: datetime | None = None

    @property
    def queued(self) -> bool:
        return self.status == "queued"


@dataclass(frozen=True)
class WorkflowRun:
    id: int
    repository: str
    status: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class HookRef:
    """The webhook whose deliveries can be listed and redelivered: a repository or organisation hook
    (``hook_id`` in the configured scope), or the GitHub App's own hook (``app=True``)."""

    hook_id: int | None = None
    app: bool = False


@dataclass(frozen=True)
class HookDelivery:
    """One delivery attempt of a webhook (``GET .../hooks/{hook_id}/deliveries``)."""

    id: int
    guid: str
    delivered_at: datetime
    redelivery: bool
    status_code: int
    event: str
    action: str | None = None

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status_code < 300


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing, and how to ask for the next (``None``: this was the last).

    One page is one request, so a caller can keep an exact request budget.
    """

    items: tuple[T, ...]
    next: str | None = None


class GitHubPort(Protocol):
    """Runner endpoints of one repository or organisation (the configured scope), plus the job,
    run, installation and webhook-delivery reads that reconcile our records with GitHub."""

    def generate_jitconfig(
        self, *, name: str, labels: Sequence[str], runner_group_id: int, work_folder: str = "_work"
    ) -> JitConfig: ...

    def delete_runner(self, runner_id: int) -> None: ...

    def list_runners(self, name: str | None = None) -> Iterator[GitHubRunner]: ...

    def get_runner(self, runner_id: int) -> GitHubRunner | None:
        """The runner, or ``None`` when GitHub does not know it (404)."""
        ...

    def get_job(self, repository: str, job_id: int) -> GitHubJob | None:
        """The job, or ``None`` when GitHub does not know it (404)."""
        ...

    def list_workflow_runs(self, repository: str, status: str, page: str | None = None) -> Page[WorkflowRun]:
        """One page (100) of the repository's runs with ``status`` (``queued``, ``in_progress``...)."""
        ...

    def list_run_jobs(self, repository: str, run_id: int, page: str | None = None) -> Page[GitHubJob]:
        """One page (100) of the latest attempt's jobs of a run."""
        ...

    def list_installation_repositories(self, page: str | None = None) -> Page[str]:
        """One page (100) of the full names of the repositories the App installation can see.
        Raises :class:`GitHubAuthError` when the credentials are not an App's."""
        ...

    def list_hook_deliveries(
        self, hook: HookRef, *, failed_only: bool = True, page: str | None = None
    ) -> Page[HookDelivery]:
        """One page (100) of deliveries, newest first."""
        ...

    def redeliver(self, hook: HookRef, delivery_id: int) -> None:
        """Ask GitHub to deliver ``delivery_id`` again (202)."""
        ...

    def rate_limit(self) -> Mapping[str, Any]: ...


# --- AWS: compute, images, objects ------------------------------------------------------------


class LaunchError(Exception):
    """RunTask did not start a task. ``capacity`` marks errors worth retrying on another capacity
    provider; ``transient`` marks errors worth retrying later."""

    def __init__(
        self, message: str, *, transient: bool, capacity: bool = False, definition_inactive: bool = False
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.capacity = capacity
        self.definition_inactive = definition_inactive


@dataclass(frozen=True)
class TaskRequest:
    runner_name: str
    task_definition_arn: str
    cpu: int
    memory: int
    spot: bool
    environment_file_arn: str
    tags: Mapping[str, str]
    client_token: str
    ephemeral_storage_gib: int | None = None


@dataclass(frozen=True)
class TaskInfo:
    task_arn: str
    last_status: str
    started_by: str | None
    tags: Mapping[str, str]
    created_at: datetime | None = None
    desired_status: str | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    exit_code: int | None = None  # of the runner container
    container_reason: str | None = None


class TaskLauncher(Protocol):
    def run_task(self, request: TaskRequest) -> str: ...

    def stop_task(self, task_arn: str, reason: str) -> None: ...

    def list_tasks(self) -> Iterator[TaskInfo]: ...

    def running_task_arns(self) -> set[str]:
        """ARNs of the cluster's tasks whose desired status is RUNNING (ListTasks only, no describe)."""
        ...

    def describe_tasks(self, task_arns: Sequence[str]) -> dict[str, TaskInfo | None]:
        """What ECS knows of each task; ``None`` for a task ECS no longer knows (MISSING)."""
        ...

    def find_task(self, runner_name: str) -> TaskInfo | None: ...

    def ensure_task_definition(self, image_uri: str, architecture: str, *, refresh: bool = False) -> str:
        """The task definition for ``image_uri`` derived from the current base definition: an existing
        ACTIVE revision whose content matches, else a new revision. ``refresh`` skips the cache."""
        ...


class Waker(Protocol):
    """Starts the janitor to resume deferred launches: now (an asynchronous invocation), or once at
    a given time (a one-time EventBridge Scheduler schedule, which fires within that minute)."""

    def wake_now(self) -> None: ...

    def wake_at(self, when: datetime) -> None: ...


@dataclass(frozen=True)
class RegistryImage:
    tag: str
    pushed_at: datetime | None
    size_bytes: int | None
    digest: str | None = None


class ImageRegistry(Protocol):
    def find(self, tag: str) -> RegistryImage | None: ...

    def list(self) -> Iterator[RegistryImage]: ...

    def image_uri(self, tag: str) -> str: ...


@dataclass(frozen=True)
class BuildInfo:
    build_id: str
    status: str
    log_url: str | None = None
    phase: str | None = None


class ImageBuilder(Protocol):
    def start_build(self, *, base_image: str, image_tag: str, architecture: str) -> BuildInfo: ...

    def get_build(self, build_id: str) -> BuildInfo: ...


class JitStore(Protocol):
    """Private objects holding a runner's JIT config as an ECS environment file."""

    def put(self, runner_name: str, content: str) -> str: ...

    def delete(self, runner_name: str) -> None: ...


class ClassSizesSource(Protocol):
    def load(self) -> ClassSizes: ...


class SecretSource(Protocol):
    def webhook_secret(self, *, refresh: bool = False) -> bytes:
        """The webhook secret, cached per container; ``refresh`` reads it again."""
        ...


# --- Storage ----------------------------------------------------------------------------------


class CapacityExceeded(Exception):
    """Taking a slot would exceed ``max_runners``."""


@dataclass(frozen=True)
class CreateResult:
    """``created``: the record as stored (``holds_slot`` says whether it got a slot). Otherwise the
    job's guard already names ``existing_runner`` (a duplicate, or a replacement made by another)."""

    created: bool
    record: RunnerRecord | None = None
    existing_runner: str | None = None


class ConcurrentUpdate(Exception):
    """A record kept changing under us; the caller may retry later."""


RecordChange = Callable[[RunnerRecord], RunnerRecord | None]


class RunnerStore(Protocol):
    def create(
        self, record: RunnerRecord, *, replacing: str | None = None, take_slot: bool = False
    ) -> CreateResult:
        """Store ``record`` unless its job already has a runner (then not ``created``).

        With ``replacing``, the job's guard must name that runner, and is moved to ``record`` in the
        same write; not created when it names another (the replacement exists already). With
        ``take_slot`` the record takes a capacity slot in the same write when one is free.
        """
        ...

    def create_pool_runner(self, record: RunnerRecord, *, take_slot: bool = True) -> RunnerRecord:
        """Store a warm pool's runner (no job, no guard), with a slot when one is free."""
        ...

    def claimable(self, pool: str, *, limit: int = 3) -> Iterator[RunnerRecord]:
        """Idle warm runners of ``pool`` nobody claimed, the longest idle first."""
        ...

    def claim(self, claimed: RunnerRecord, *, expected_version: int) -> CreateResult:
        """Write ``claimed`` (a warm runner given its job) and the job's guard in one transaction,
        on condition that the runner is still at ``expected_version``; not created when the job
        already has a runner (``existing_runner``) or another job claimed the runner first."""
        ...

    def get(self, runner_name: str) -> RunnerRecord | None: ...

    def get_by_job(self, job_id: int) -> RunnerRecord | None: ...

    def update(
        self, runner_name: str, change: RecordChange, *, current: RunnerRecord | None = None
    ) -> tuple[RunnerRecord | None, RunnerRecord | None]:
        """Apply ``change`` with optimistic concurrency, retrying on conflicts. ``current`` is the
        record as the caller last wrote it: the first try uses it instead of reading.

        Returns (before, after); ``after`` is None when the record is missing or ``change`` returned
        None (a no-op). Taking a slot (``holds_slot`` False -> True) raises
        :class:`CapacityExceeded` when ``max_runners`` are already active; giving one back is part of
        the same atomic write.
        """
        ...

    def by_status(
        self, status: RunnerStatus, *, since: datetime | None = None, newest_first: bool = True
    ) -> Iterator[RunnerRecord]: ...

    def active(self) -> Iterator[RunnerRecord]: ...

    def waiting(self, due_by: datetime, *, page_size: int = 10) -> Iterator[RunnerRecord]:
        """STARTING runners without a task whose wait ends by ``due_by``, soonest first."""
        ...

    def next_waiting_due(self, after: datetime) -> datetime | None:
        """The soonest end of a wait (retry backoff, GitHub pause, launch lease) later than ``after``."""
        ...

    def active_slots(self) -> int: ...

    def claim_lease(self, name: str, owner: str, until: datetime) -> bool:
        """Hold ``name`` until ``until``; ``False`` while someone else holds it."""
        ...

    def release_lease(self, name: str, owner: str) -> None: ...

    def touch_repository(self, repository: str, at: datetime) -> None: ...

    def recent_repositories(self, since: datetime) -> Iterator[str]: ...

    def claim_redelivery(self, guid: str, at: datetime, *, failed_at: datetime, max_attempts: int) -> bool:
        """Whether to redeliver ``guid`` now: not yet asked for since its failure at ``failed_at``."""
        ...

    def get_pause(self, name: str) -> datetime | None:
        """Until when calls to ``name`` (e.g. ``github``) are paused, if they are."""
        ...

    def set_pause(self, name: str, until: datetime) -> None: ...

    def claim_resume(self, name: str, until: datetime) -> bool:
        """The first caller after the pause ``until`` ended gets True: it resumes deferred launches."""
        ...


class ImageStore(Protocol):
    def get_image(self, tag: str, *, cached: bool = False) -> ImageRecord | None:
        """The image record; ``cached`` may answer a READY record from this container's memory
        (a minute at most), which the launch path uses."""
        ...

    def lock_build(
        self,
        record: ImageRecord,
        *,
        retry_failed_before: datetime,
        stale_lock_before: datetime | None = None,
        stale_local_before: datetime | None = None,
    ) -> bool:
        """Create the BUILDING record for a tag; ``False`` if another build holds or finished it.

        A FAILED record older than ``retry_failed_before`` is replaced; so is a lock that never got a
        build id before ``stale_lock_before`` and a local build's lock older than ``stale_local_before``.
        """
        ...

    def save_image(self, record: ImageRecord) -> None: ...

    def delete_image(self, tag: str) -> None: ...

    def tag_for_build(self, build_id: str) -> str | None: ...

    def list_images(self) -> Iterator[ImageRecord]: ...


# --- Cross-cutting ----------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class Metrics(Protocol):
    def count(self, name: str, value: int = 1, **dimensions: str) -> None: ...

    def seconds(self, name: str, value: float, **dimensions: str) -> None: ...


class NullMetrics:
    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        return None

    def seconds(self, name: str, value: float, **dimensions: str) -> None:
        return None
