"""``workflow_job`` events: queued jobs get a runner; in_progress and completed update it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..domain.classes import ClassSize
from ..domain.image_ref import ImageReference, parse_image_reference
from ..domain.images import base_image_allowed
from ..domain.labels import LabelError, parse_job_labels
from ..domain.names import derive_image_tag, is_our_runner_name, new_runner_name
from ..domain.runner import RunnerRecord, new_runner_record
from ..domain.status import RunnerStatus
from ..ports import GitHubError, GitHubNotFound
from ..webhook import WorkflowJobEvent
from .context import Deadline, Deps, log
from .errors import describe_error
from .launch import launch_runner
from .outcomes import Outcome
from .records import annotate
from .retire import launch_waiting, retire_runner


class JobRefused(Exception):
    """The job is for this fleet but cannot be served; the message is the FAILED reason."""


@dataclass(frozen=True)
class JobSpec:
    size: ClassSize
    image: ImageReference


def handle_workflow_job(deps: Deps, event: WorkflowJobEvent, deadline: Deadline | None = None) -> Outcome:
    if event.action == "queued":
        return accept_queued_job(deps, event, deadline)
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


def accept_queued_job(deps: Deps, event: WorkflowJobEvent, deadline: Deadline | None) -> Outcome:
    refusal: str | None = None
    try:
        spec = job_spec(deps, event)
    except JobRefused as exc:
        spec, refusal = None, str(exc)
    if spec is None and refusal is None:
        return Outcome("ignored", "labels are not for this fleet")

    now = deps.clock.now()
    fields: dict[str, object] = {
        "run_id": event.run_id,
        "run_url": event.run_url,
        "workflow_name": event.workflow_name,
        "job_name": event.job_name,
    }
    if spec is not None:
        architecture = spec.size.architecture.value
        fields.update(
            class_name=spec.size.name,
            image=spec.image.canonical,
            image_tag=derive_image_tag(
                spec.image.canonical, deps.settings.build_context_digest, architecture
            ),
            architecture=architecture,
        )
    record = new_runner_record(
        runner_name=new_runner_name(deps.settings.name),
        job_id=event.job_id,
        repository=event.repository,
        labels=tuple(str(label) for label in event.labels),
        at=now,
        status=RunnerStatus.FAILED if refusal else RunnerStatus.STARTING,
        reason=refusal or f"job {event.job_id} queued",
        **fields,
    )
    if not deps.store.create(record):
        existing = deps.store.get_by_job(event.job_id)
        deps.metrics.count("DuplicateDeliveries")
        return Outcome(
            "duplicate",
            f"job {event.job_id} already has a runner",
            existing.runner_name if existing else None,
        )
    log_extra = {"job_id": event.job_id, "runner_name": record.runner_name}
    if refusal:
        deps.metrics.count("RunnersFailed", reason="labels")
        log.warning("job %s refused: %s", event.job_id, refusal, extra=log_extra)
        return Outcome("refused", refusal, record.runner_name)
    deps.metrics.count("RunnersAccepted")
    log.info("job %s accepted as runner %s", event.job_id, record.runner_name, extra=log_extra)
    after = launch_runner(deps, record.runner_name, deadline)
    status = after.status if after else record.status
    detail = after.status_reason if after else record.status_reason
    return Outcome("accepted", f"{status}: {detail}", record.runner_name)


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
    replace_displaced_runner(deps, after or before, event.labels, deadline)
    if after is None or after.status is not RunnerStatus.RUNNING:
        return Outcome("noop", f"runner already {before.status}", name)
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
            replace_displaced_runner(deps, after or before, event.labels, deadline)
            return Outcome("completed", f"job {event.job_id}: {event.conclusion}", name)
    surplus = deps.store.get_by_job(event.job_id)
    if surplus is not None and surplus.runner_name != name:
        _retire_if_idle(
            deps, surplus, f"job {event.job_id} finished ({event.conclusion}) without this runner", deadline
        )
    return outcome


def replace_displaced_runner(
    deps: Deps, runner: RunnerRecord, taken_labels: Iterable[object], deadline: Deadline | None
) -> None:
    """``runner`` was launched for one job and took another (GitHub gives an idle runner any queued
    job its labels cover). When the job it took has the same labels, the runner launched for that
    job takes the displaced one: nothing to do. When it has fewer, no runner left can run the
    displaced job: launch a replacement with its labels, and retire the runner launched for the job
    taken if it is still idle. Idempotent: the displaced job's guard moves to the replacement."""
    taken, displaced = runner.run_job_id, runner.job_id
    if taken is None or taken == displaced or not _label_set(taken_labels) < _label_set(runner.labels):
        return
    replacement = new_runner_record(
        runner_name=new_runner_name(deps.settings.name),
        job_id=displaced,
        repository=runner.repository,
        labels=runner.labels,
        at=deps.clock.now(),
        reason=f"job {displaced} queued; its runner {runner.runner_name} took job {taken}",
        class_name=runner.class_name,
        image=runner.image,
        image_tag=runner.image_tag,
        architecture=runner.architecture,
        run_id=runner.run_id,
        run_url=runner.run_url,
        workflow_name=runner.workflow_name,
        job_name=runner.job_name,
        replaces=runner.runner_name,
    )
    if deps.store.create(replacement, replacing=runner.runner_name):
        deps.metrics.count("RunnersReplaced")
        log.info(
            "job %s: runner %s took job %s, which has fewer labels; replacement %s",
            displaced,
            runner.runner_name,
            taken,
            replacement.runner_name,
            extra={"job_id": displaced, "runner_name": replacement.runner_name},
        )
        launch_runner(deps, replacement.runner_name, deadline)
    left_over = deps.store.get_by_job(taken)
    if left_over is not None and left_over.runner_name != runner.runner_name:
        _retire_if_idle(deps, left_over, f"job {taken} ran on runner {runner.runner_name}", deadline)


def _idle(record: RunnerRecord) -> bool:
    return not record.terminal and record.status is not RunnerStatus.RUNNING and record.run_job_id is None


def _label_set(labels: Iterable[object]) -> frozenset[str]:
    return frozenset(str(label).lower() for label in labels)


def _retire_if_idle(deps: Deps, record: RunnerRecord, reason: str, deadline: Deadline | None) -> None:
    """The job this runner was launched for is gone; remove the runner unless it took another job."""
    if not _idle(record):
        return
    if record.github_runner_id is not None:
        try:
            deps.github.delete_runner(record.github_runner_id)  # refused while the runner is busy
        except GitHubNotFound:
            pass
        except GitHubError as exc:
            log.info("runner %s kept: %s", record.runner_name, describe_error(exc))
            return
    retire_runner(deps, record.runner_name, RunnerStatus.OFFLINE, reason)
    launch_waiting(deps, deadline, limit=1)  # its slot is free; its task's STOPPED event will be a no-op
