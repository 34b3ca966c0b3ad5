"""Runner images: which task definition a runner launches on, and building missing images.

One CodeBuild build per derived tag, however many runners wait for it: the conditional creation
of the image record is the lock. Runners wait in IMAGE_CREATING and are launched (or failed) when
the build's state-change event arrives; the janitor covers a lost event.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from ..aws_events import BuildStateChange
from ..domain.images import ImageRecord, ImageState
from ..domain.runner import RunnerRecord
from ..domain.status import RunnerStatus
from ..ports import RegistryImage
from .context import Deadline, Deps, log
from .errors import PermanentLaunchError
from .outcomes import Outcome
from .records import LAUNCH_LEASE, move

FAILED_BUILD_COOLDOWN = timedelta(minutes=10)
# StartBuild answers in about a second: a lock without a build id this old lost its holder.
STALE_BUILD_LOCK = timedelta(minutes=5)
BUILD_SUCCEEDED = "SUCCEEDED"
BUILD_FAILED_STATES = frozenset({"FAILED", "FAULT", "STOPPED", "TIMED_OUT"})


def build_failure_reason(image: ImageRecord) -> str:
    text = f"image build for {image.base_image} failed: {image.reason or 'unknown reason'}"
    return f"{text} (logs: {image.log_url})" if image.log_url else text


def resolve_task_definition(deps: Deps, record: RunnerRecord) -> str | None:
    """The task definition to launch ``record`` on, or None when it now waits in IMAGE_CREATING."""
    tag = record.image_tag
    if not tag or not record.image or not record.architecture:
        raise PermanentLaunchError("runner record has no image tag", kind="labels")
    now = deps.clock.now()
    image = deps.images.get_image(tag, cached=True)
    if image is not None and image.state is ImageState.READY and image.task_definition_arn:
        if image.derived_from == deps.settings.base_task_definition_arn:
            return image.task_definition_arn
        return refresh_task_definition(deps, record, image)
    if image is None or image.state is ImageState.READY:
        found = deps.registry.find(tag)
        if found is not None:
            return register_ready_image(
                deps, found, image, base_image=record.image, architecture=record.architecture
            ).task_definition_arn
    if (
        image is not None
        and image.state is ImageState.FAILED
        and image.updated_at > now - FAILED_BUILD_COOLDOWN
    ):
        raise PermanentLaunchError(build_failure_reason(image), kind="image")
    if image is None or image.state is not ImageState.BUILDING:
        start_image_build(deps, base_image=record.image, tag=tag, architecture=record.architecture)

    move(
        deps,
        record.runner_name,
        RunnerStatus.IMAGE_CREATING,
        f"waiting for the runner image build of {record.image}",
        next_attempt_at=None,
    )
    # The build may have finished between our read and our move: look again so no runner waits forever.
    latest = deps.images.get_image(tag)
    if latest is not None and latest.state is ImageState.READY and latest.task_definition_arn:
        move(
            deps,
            record.runner_name,
            RunnerStatus.STARTING,
            "runner image ready",
            next_attempt_at=now + LAUNCH_LEASE,
        )
        return latest.task_definition_arn
    if latest is not None and latest.state is ImageState.FAILED:
        raise PermanentLaunchError(build_failure_reason(latest), kind="image")
    return None


def refresh_task_definition(deps: Deps, record: RunnerRecord, image: ImageRecord | None = None) -> str:
    """Derive the image's task definition again from the current base definition (the base changed,
    or the derived revision was deregistered) and remember it on the image record."""
    tag = record.image_tag or ""
    image = image or deps.images.get_image(tag)
    serving = image.serving_tag if image is not None else tag  # a scheduled rebuild, once READY
    arn = deps.launcher.ensure_task_definition(
        deps.registry.image_uri(serving), record.architecture or "x86_64", refresh=True
    )
    if image is not None:
        deps.images.save_image(
            replace(
                image,
                task_definition_arn=arn,
                derived_from=deps.settings.base_task_definition_arn,
                updated_at=deps.clock.now(),
            )
        )
    log.info(
        "image %s: task definition %s for %s (from base %s)",
        tag,
        arn,
        serving,
        deps.settings.base_task_definition_arn,
    )
    return arn


def start_image_build(
    deps: Deps, *, base_image: str, tag: str, architecture: str, rebuild_of: str | None = None
) -> ImageRecord | None:
    """Start the one build for ``tag`` unless another caller holds it; returns the record we created.
    ``rebuild_of`` names the image a scheduled rebuild (``tag``) is for."""
    if not deps.settings.enable_image_build or deps.builder is None:
        raise PermanentLaunchError(
            f"runner image for {base_image} ({tag}) is not in ECR and image builds are disabled; "
            f"pre-build it with `python -m ecsrunner images build {base_image}`",
            kind="image",
        )
    now = deps.clock.now()
    lock = ImageRecord(
        tag=tag,
        base_image=base_image,
        architecture=architecture,
        state=ImageState.BUILDING,
        created_at=now,
        updated_at=now,
        rebuild_of=rebuild_of,
    )
    taken = deps.images.lock_build(
        lock,
        retry_failed_before=now - FAILED_BUILD_COOLDOWN,
        stale_lock_before=now - STALE_BUILD_LOCK,
        stale_local_before=now - timedelta(seconds=deps.settings.image_creating_timeout_seconds),
    )
    if not taken:
        return None
    try:
        build = deps.builder.start_build(base_image=base_image, image_tag=tag, architecture=architecture)
    except Exception:
        deps.images.delete_image(tag)  # release the lock so a retry can start the build
        raise
    started = ImageRecord(
        tag=tag,
        base_image=base_image,
        architecture=architecture,
        state=ImageState.BUILDING,
        created_at=now,
        updated_at=deps.clock.now(),
        build_id=build.build_id,
        log_url=build.log_url,
        rebuild_of=rebuild_of,
    )
    deps.images.save_image(started)
    deps.metrics.count("ImageBuildsStarted")
    log.info("started image build %s for %s (tag %s)", build.build_id, base_image, tag)
    return started


def register_ready_image(
    deps: Deps, found: RegistryImage, previous: ImageRecord | None, *, base_image: str, architecture: str
) -> ImageRecord:
    tag = found.tag
    task_definition = deps.launcher.ensure_task_definition(deps.registry.image_uri(tag), architecture)
    now = deps.clock.now()
    ready = ImageRecord(
        tag=tag,
        base_image=base_image,
        architecture=architecture,
        state=ImageState.READY,
        created_at=previous.created_at if previous else now,
        updated_at=now,
        build_id=previous.build_id if previous else None,
        task_definition_arn=task_definition,
        built_at=found.pushed_at,
        size_bytes=found.size_bytes,
        log_url=previous.log_url if previous else None,
        derived_from=deps.settings.base_task_definition_arn,
        rebuild_of=previous.rebuild_of if previous else None,
    )
    deps.images.save_image(ready)
    return ready


def build_id_of(event: BuildStateChange) -> str:
    """The build id StartBuild returned (``<project>:<uuid>``): events name the build by its ARN
    (``arn:<partition>:codebuild:<region>:<account>:build/<project>:<uuid>``)."""
    build_id = event.build_id
    if build_id.startswith("arn:") and ":build/" in build_id:
        return build_id.split(":build/", 1)[1]
    return build_id


def waiting_for(deps: Deps, tag: str) -> list[RunnerRecord]:
    return [
        r for r in deps.store.by_status(RunnerStatus.IMAGE_CREATING, newest_first=False) if r.image_tag == tag
    ]


def handle_build_event(deps: Deps, event: BuildStateChange, deadline: Deadline | None = None) -> Outcome:
    from .launch import launch_runner  # launch imports this module

    if event.project_name != deps.settings.codebuild_project_name:
        return Outcome("ignored", f"build of another project ({event.project_name})")
    build_id = build_id_of(event)
    tag = event.environment.get("IMAGE_TAG") or deps.images.tag_for_build(build_id)
    image = deps.images.get_image(tag) if tag else None
    if tag is None or image is None:
        return Outcome("ignored", f"build {build_id} is not one of ours")
    if event.status == BUILD_SUCCEEDED:
        found = deps.registry.find(tag)
        if found is None:
            return _fail_build(deps, image, event, "build succeeded but the image tag is not in ECR")
        ready = register_ready_image(
            deps, found, image, base_image=image.base_image, architecture=image.architecture
        )
        if ready.rebuild_of:
            from .image_refresh import promote_rebuild  # image_refresh imports this module

            promote_rebuild(deps, ready)
            return Outcome("image_rebuilt", f"{ready.rebuild_of}: new launches use {tag}")
        waiting = waiting_for(deps, tag)
        for record in waiting:
            move(deps, record.runner_name, RunnerStatus.STARTING, f"runner image built ({build_id})")
        launched = 0
        for record in waiting:
            if deadline is not None and deadline.expired:
                break  # the rest are STARTING without a task: the janitor launches them
            launch_runner(deps, record.runner_name, deadline)
            launched += 1
        return Outcome("image_ready", f"{tag}: launched {launched} of {len(waiting)} waiting runners")
    if event.status in BUILD_FAILED_STATES:
        if image.build_id and image.build_id != build_id:
            return Outcome("ignored", f"event for an older build of {tag}")
        return _fail_build(deps, image, event, f"build {event.status}")
    return Outcome("ignored", f"build state {event.status}")


def _fail_build(deps: Deps, image: ImageRecord, event: BuildStateChange, reason: str) -> Outcome:
    if image.state is ImageState.READY:
        return Outcome("ignored", f"{image.tag} is already built")
    failed = record_build_failure(deps, image, build_id_of(event), reason, event.log_url)
    waiting = waiting_for(deps, image.tag)
    for record in waiting:
        move(deps, record.runner_name, RunnerStatus.FAILED, build_failure_reason(failed), refusal="image")
    return Outcome("image_failed", f"{image.tag}: {reason}; failed {len(waiting)} waiting runners")


def record_build_failure(
    deps: Deps, image: ImageRecord, build_id: str, reason: str, log_url: str | None
) -> ImageRecord:
    """Mark the image FAILED (runners waiting for it are failed by the caller)."""
    now: datetime = deps.clock.now()
    failed = ImageRecord(
        tag=image.tag,
        base_image=image.base_image,
        architecture=image.architecture,
        state=ImageState.FAILED,
        created_at=image.created_at,
        updated_at=now,
        build_id=build_id,
        reason=reason,
        log_url=log_url or image.log_url,
        rebuild_of=image.rebuild_of,
    )
    deps.images.save_image(failed)
    deps.metrics.count("ImageBuildsFailed")
    if image.rebuild_of:
        # Visible, never fatal: the image keeps serving its current build; the next run retries.
        deps.metrics.count("ImageRebuildsFailed")
        log.warning(
            "image rebuild %s of %s failed (%s); launches keep using the current build",
            image.tag,
            image.rebuild_of,
            reason,
        )
    return failed
