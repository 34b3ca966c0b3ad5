"""``workflow_job`` events: queued jobs get a runner; waiting, in_progress and completed update it.

The same path accepts a queued job whether a webhook or the reconciliation with GitHub found it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..domain.classes import ClassSize
from ..domain.image_ref import ImageReference, parse_image_reference
from ..domain.images import ImageState, base_image_allowed
from ..domain.labels import LabelError, parse_job_labels
from ..domain.names import derive_image_tag, is_our_runner_name, new_runner_name
from ..domain.runner import RunnerRecord, new_runner_record
from ..domain.status import RunnerStatus
from ..ports import GitHubError
from ..webhook import WorkflowJobEvent
from .context import Deadline, Deps, log
from .errors import describe_error
from .images import FAILED_BUILD_COOLDOWN
from .launch import launch_runner
from .outcomes import Outcome
from .pools import claim_on_start, claim_warm_runner, pool_for
from .records import LAUNCH_LEASE, annotate
from .relaunch import CONFIG_REFUSALS, GIVEN_UP, replace_runner
from .repositories import remember_repository
from .retire import launch_waiting, retire_if_idle

APPROVAL_WAIT = "job waits for an environment approval"


class JobRefused(Exception):
    """The job is for this fleet but cannot be served; the message is the FAILED reason."""


@dataclass(frozen=True)
class JobSpec:
    size: ClassSize
    image: ImageReference


def handle_workflow_job(deps: Deps, event: WorkflowJobEvent, deadline: Deadline | None = None) -> Outcome:
    if event.action == "queued":
        return accept_queued_job(deps, event, deadline)
    if event.action == "waiting":
        return job_waiting(deps, event, deadline)
    if event.action == "in_progress":
        return job_started(deps, event, deadline)
    if event.action == "completed":
        return job_completed(deps, event, deadline)
    return Outcome("ignored", f"workflow_job action {event.action!r} needs nothing")


def job_spec(deps: Deps, event: WorkflowJobEvent) -> JobSpec | None:
    """What the job asks for; None if it is not for this fleet; JobRefused if it cannot be served."""
    try:
        labels = parse_job_labels(event.labels, deps.settings.extra_labels)
    except LabelError as exc:
        raise JobRefused(str(exc)) from None
    if labels is None:
        return None
    classes = deps.classes.load()
    size = classes.get(labels.class_name)
    if size is None:
        raise JobRefused(
            f"unknown class {labels.class_name!r} (label 'class:{labels.class_name}'); "
            f"defined classes: {', '.join(classes.names())}"
        )
    if labels.architecture_label and labels.architecture_label != size.architecture.runner_label:
        raise JobRefused(
            f"label {labels.architecture_label!r} conflicts with class {size.name!r}, "
            f"which runs {size.architecture.value}"
        )
    image = labels.image or parse_image_reference(deps.settings.default_base_image)
    allowed = deps.settings.allowed_base_images
    if labels.image and not base_image_allowed(str(labels.image), labels.image.canonical, allowed):
        raise JobRefused(
            f"label {labels.image_label!r}: image not allowed by allowed_base_images ({', '.join(allowed)})"
        )
    return JobSpec(size=size, image=image)


def _spec_fields(deps: Deps, spec: JobSpec) -> dict[str, object]:
    architecture = spec.size.architecture.value
    return {
        "class_name": spec.size.name,
        "image": spec.image.canonical,
        "image_tag": derive_image_tag(spec.image.canonical, deps.settings.build_context_digest, architecture),
        "architecture": architecture,
    }


def accept_queued_job(
    deps: Deps, event: WorkflowJobEvent, deadline: Deadline | None, *, source: str = "webhook"
) -> Outcome:
    refusal: str | None = None
    try:
        spec = job_spec(deps, event)
    except JobRefused as exc:
        spec, refusal = None, str(exc)
    if spec is None and refusal is None:
        return Outcome("ignored", "labels are not for this fleet")
    if event.status == "waiting":
        # GitHub queues a job behind an environment's protection rule as "waiting": no task until
        # a reviewer approves it and it is queued for real (possibly hours later).
        deps.metrics.count("JobsWaitingForApproval")
        return Outcome("waiting", f"job {event.job_id}: {APPROVAL_WAIT}; its runner starts when it is queued")

    now = deps.clock.now()
    fields: dict[str, object] = {
        "run_id": event.run_id,
        "run_url": event.run_url,
        "workflow_name": event.workflow_name,
        "job_name": event.job_name,
        "job_queued_at": event.created_at or now,
    }
    if spec is not None:
        pool = pool_for(deps, spec.size.name, spec.image.canonical, event.labels)
        warm = claim_warm_runner(deps, event, pool, fields, deadline) if pool is not None else None
        if warm is not None:
            if warm.action == "duplicate" and source == "webhook":
                deps.metrics.count("DuplicateDeliveries")
            return warm
        fields.update(_spec_fields(deps, spec), next_attempt_at=now + LAUNCH_LEASE)
    else:
        fields.update(refusal="labels")
    record = new_runner_record(
        runner_name=new_runner_name(deps.settings.name),
        job_id=event.job_id,
        repository=event.repository,
        labels=tuple(str(label) for label in event.labels),
        at=now,
        status=RunnerStatus.FAILED if refusal else RunnerStatus.STARTING,
        reason=refusal
        or f"job {event.job_id} queued" + (" (found on GitHub)" if source != "webhook" else ""),
        fields=fields,
    )
    result = deps.store.create(record, take_slot=refusal is None)
    if not result.created or result.record is None:
        existing = deps.store.get(result.existing_runner) if result.existing_runner else None
        if source == "webhook":
            deps.metrics.count("DuplicateDeliveries")
        return _job_has_a_runner(deps, event, existing, deadline, spec=spec, refusal=refusal)
    remember_repository(deps, event.repository)
    log_extra = {"job_id": event.job_id, "runner_name": record.runner_name}
    if refusal:
        deps.metrics.count("RunnersFailed", reason="labels")
        deps.metrics.count("JobsRefused", reason="labels")
        log.warning("job %s refused: %s", event.job_id, refusal, extra=log_extra)
        return Outcome("refused", refusal, record.runner_name)
    deps.metrics.count("RunnersAccepted")
    log.info("job %s accepted as runner %s", event.job_id, record.runner_name, extra=log_extra)
    after = launch_runner(deps, record.runner_name, deadline, current=result.record)
    status = after.status if after else record.status
    detail = after.status_reason if after else record.status_reason
    return Outcome("accepted", f"{status}: {detail}", record.runner_name)


def _job_has_a_runner(
    deps: Deps,
    event: WorkflowJobEvent,
    existing: RunnerRecord | None,
    deadline: Deadline | None,
    *,
    spec: JobSpec | None,
    refusal: str | None,
) -> Outcome:
    """A queued job whose guard names ``existing``: a duplicate, unless that runner can no longer
    take it (it took another job, ended before taking one, or was refused for a configuration the
    operator has fixed since): then the job gets a successor."""
    job_id = event.job_id
    if existing is None or existing.run_job_id == job_id:
        return Outcome(
            "duplicate", f"job {job_id} already has a runner", existing.runner_name if existing else None
        )
    name = existing.runner_name
    if not existing.terminal and existing.run_job_id is None:
        return Outcome("duplicate", f"job {job_id} already has runner {name} ({existing.status})", name)
    if existing.refusal in GIVEN_UP:
        return Outcome("duplicate", f"job {job_id} was given up: {existing.status_reason}", name)
    if existing.refusal in CONFIG_REFUSALS and (refusal or not _fixed_since(deps, existing, spec)):
        return Outcome("duplicate", f"job {job_id} is still refused: {existing.status_reason}", name)
    if spec is None:
        return Outcome("duplicate", f"job {job_id} is refused now: {refusal}", name)
    if existing.run_job_id is not None:
        why = f"its runner {name} took job {existing.run_job_id}"
    elif existing.refusal:
        why = f"the configuration that refused it changed ({existing.refusal})"
    else:
        why = f"its runner {name} ended before taking it ({existing.status})"
    successor = replace_runner(
        deps, existing, f"job {job_id} queued; {why}", deadline, fields=_spec_fields(deps, spec)
    )
    if successor is None:
        return Outcome("duplicate", f"job {job_id} got its new runner from another delivery", name)
    return Outcome("accepted", f"{successor.status}: {successor.status_reason}", successor.runner_name)


def _fixed_since(deps: Deps, refused: RunnerRecord, spec: JobSpec | None) -> bool:
    """Would the job be served now? Labels: they parse and their class exists (``spec``). A failed
    image build: only once a new build may start (or the image was built out of band)."""
    if spec is None:
        return False
    if refused.refusal != "image" or not refused.image_tag:
        return True
    image = deps.images.get_image(refused.image_tag)
    if image is None or image.state is ImageState.READY:
        return True
    return image.state is ImageState.FAILED and image.updated_at <= deps.clock.now() - FAILED_BUILD_COOLDOWN


def job_waiting(deps: Deps, event: WorkflowJobEvent, deadline: Deadline | None = None) -> Outcome:
    """The job waits for a reviewer: its idle runner (if any) is retired so no task bills through the
    approval; the guard stays, and the job's next ``queued`` gets it a new runner."""
    deps.metrics.count("JobsWaitingForApproval")
    record = deps.store.get_by_job(event.job_id)
    if record is None or record.terminal or record.took_job:
        return Outcome("waiting", f"job {event.job_id}: {APPROVAL_WAIT}")
    kept = _why_keep(deps, record)
    if kept is not None:
        return Outcome("waiting", f"job {event.job_id}: {kept}; runner kept", record.runner_name)
    ended = retire_if_idle(deps, record, RunnerStatus.OFFLINE, f"job {event.job_id}: {APPROVAL_WAIT}")
    if ended is not None:
        launch_waiting(deps, deadline, limit=1)
    return Outcome("waiting", f"job {event.job_id}: {APPROVAL_WAIT}", record.runner_name)


def _why_keep(deps: Deps, record: RunnerRecord) -> str | None:
    """Why a ``waiting`` delivery must not retire the job's runner: GitHub holds the job queued
    (deliveries arrive out of order: a reviewer approved it since this one was sent), or GitHub
    cannot be asked (as in :func:`retire_if_idle`: the janitor asks again at the runner's timeout)."""
    try:
        job = deps.github.get_job(record.repository, record.job_id)
    except GitHubError as exc:
        return f"GitHub could not say whether it still waits ({describe_error(exc)})"
    if job is not None and job.queued:
        return "queued on GitHub (approved since): a late delivery"
    return None


def job_started(deps: Deps, event: WorkflowJobEvent, deadline: Deadline | None = None) -> Outcome:
    name = event.runner_name
    if not is_our_runner_name(deps.settings.name, name) or name is None:
        return Outcome("ignored", f"runner {name!r} is not one of ours")
    now = deps.clock.now()

    def running(record: RunnerRecord) -> RunnerRecord | None:
        moved = record.transition(RunnerStatus.RUNNING, f"running job {event.job_id}", now)
        if moved is None and record.run_job_id == event.job_id:
            return None
        return (moved or record).touch(now, run_job_id=event.job_id, run_job_repository=event.repository)

    before, after = deps.store.update(name, running)
    if before is None:
        return Outcome("ignored", f"no record for runner {name}")
    if after is not None and after.pool and not after.job_id:
        claim_on_start(deps, after, event.job_id)  # a warm runner GitHub gave a job directly
    else:
        replace_displaced_runner(deps, after or before, deadline)
    if after is None or after.status is not RunnerStatus.RUNNING:
        return Outcome("noop", f"runner already {before.status}", name)
    if before.status is not RunnerStatus.RUNNING:
        queued_at = event.created_at or after.queued_since
        deps.metrics.seconds(
            "JobStartLatency", (now - queued_at).total_seconds(), start="warm" if after.pool else "cold"
        )
    deps.jit.delete(name)
    return Outcome("running", f"job {event.job_id}", name)


def job_completed(deps: Deps, event: WorkflowJobEvent, deadline: Deadline | None = None) -> Outcome:
    name = event.runner_name
    outcome = Outcome("ignored", "no runner of ours ran this job")
    if name is not None and is_our_runner_name(deps.settings.name, name):
        now = deps.clock.now()
        before, after = deps.store.update(
            name,
            annotate(
                now, conclusion=event.conclusion, run_job_id=event.job_id, run_job_repository=event.repository
            ),
        )
        if before is not None:
            # One of our runners ran it (if in_progress was lost, the swap is handled here).
            replace_displaced_runner(deps, after or before, deadline)
            return Outcome("completed", f"job {event.job_id}: {event.conclusion}", name)
    surplus = deps.store.get_by_job(event.job_id)
    if surplus is not None and surplus.runner_name != name and _idle(surplus):
        reason = f"job {event.job_id} finished ({event.conclusion}) without this runner"
        if retire_if_idle(deps, surplus, RunnerStatus.OFFLINE, reason) is not None:
            launch_waiting(deps, deadline, limit=1)  # its slot is free
    return outcome


def replace_displaced_runner(deps: Deps, runner: RunnerRecord, deadline: Deadline | None) -> None:
    """``runner`` was launched for one job and took another (GitHub gives an idle runner any queued
    job its labels cover). The runner launched for the job taken (the left-over) takes the displaced
    job when it is alive, idle and has every label of it; otherwise the displaced job gets a successor
    (which asks GitHub first). A left-over that cannot run the displaced job is retired if idle.
    Idempotent: the displaced job's guard moves to the successor once."""
    taken, displaced = runner.run_job_id, runner.job_id
    if taken is None or taken == displaced or not displaced:  # a warm runner nobody claimed: no job
        return
    left_over = deps.store.get_by_job(taken)
    if left_over is not None and left_over.runner_name == runner.runner_name:
        left_over = None
    if (
        left_over is not None
        and _idle(left_over)
        and _label_set(runner.labels) <= _label_set(left_over.labels)
    ):
        return  # the left-over runner takes the displaced job
    reason = f"job {displaced} queued; its runner {runner.runner_name} took job {taken}"
    if replace_runner(deps, runner, reason, deadline) is not None:
        deps.metrics.count("RunnersReplaced")
    if left_over is not None and _idle(left_over):
        # It cannot run the displaced job, and its own job ran on ``runner``: it is surplus.
        reason = f"job {taken} ran on runner {runner.runner_name}"
        if retire_if_idle(deps, left_over, RunnerStatus.OFFLINE, reason) is not None:
            launch_waiting(deps, deadline, limit=1)  # its task's STOPPED event will be a no-op


def _idle(record: RunnerRecord) -> bool:
    return not record.terminal and not record.took_job


def _label_set(labels: Iterable[object]) -> frozenset[str]:
    return frozenset(str(label).lower() for label in labels)
