"""Building a runner image ahead of time (``python -m ecsrunner images build``).

The same tag, lock and READY record as the control plane: a pre-built image is found by the next
job that asks for it, and a build the control plane already started is followed, not repeated.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from ..domain.classes import Architecture
from ..domain.image_ref import parse_image_reference
from ..domain.images import LOCAL_BUILD_PREFIX, ImageRecord, ImageState, base_image_allowed
from ..domain.names import derive_image_tag
from ..settings import Settings
from .context import Deps
from .errors import PermanentLaunchError
from .images import (
    FAILED_BUILD_COOLDOWN,
    STALE_BUILD_LOCK,
    build_failure_reason,
    register_ready_image,
    start_image_build,
)


class PrebuildRefused(Exception):
    """The image cannot be built now; the message says why and what to do."""


@dataclass(frozen=True)
class ImageTarget:
    """What a job with ``image: <base_image>`` on ``architecture`` runs on."""

    base_image: str  # canonical reference
    architecture: str
    tag: str


@dataclass(frozen=True)
class PrebuildStart:
    """``ready`` when the image already exists; otherwise the build to follow (ours or another's)."""

    ready: ImageRecord | None = None
    building: ImageRecord | None = None
    started: bool = False


def image_target(settings: Settings, base_image: str | None, architecture: str) -> ImageTarget:
    """Validate the base image and derive its tag exactly as the control plane does for a job.

    Raises :class:`~ecsrunner_core.domain.image_ref.ImageReferenceError` for a malformed reference,
    :class:`PrebuildRefused` for an architecture or image this deployment does not allow.
    """
    try:
        arch = Architecture(architecture)
    except ValueError:
        raise PrebuildRefused(f"architecture must be x86_64 or arm64 (got {architecture!r})") from None
    written = base_image or settings.default_base_image
    canonical = parse_image_reference(written).canonical
    default = parse_image_reference(settings.default_base_image).canonical
    if canonical != default and not base_image_allowed(written, canonical, settings.allowed_base_images):
        raise PrebuildRefused(
            f"{written} is not allowed by allowed_base_images ({', '.join(settings.allowed_base_images)})"
        )
    tag = derive_image_tag(canonical, settings.build_context_digest, arch.value)
    return ImageTarget(base_image=canonical, architecture=arch.value, tag=tag)


def ready_image(deps: Deps, target: ImageTarget) -> ImageRecord | None:
    """The READY record of ``target``; an image already in ECR (pushed out of band) is registered."""
    image = deps.images.get_image(target.tag)
    if image is not None and image.state is ImageState.READY and image.task_definition_arn:
        return image
    found = deps.registry.find(target.tag)
    if found is None:
        return None
    return register_ready_image(
        deps, found, image, base_image=target.base_image, architecture=target.architecture
    )


def start_prebuild(deps: Deps, target: ImageTarget) -> PrebuildStart:
    """Start the one CodeBuild build for ``target``, or return the image or the build in progress."""
    ready = ready_image(deps, target)
    if ready is not None:
        return PrebuildStart(ready=ready)
    try:
        started = start_image_build(
            deps, base_image=target.base_image, tag=target.tag, architecture=target.architecture
        )
    except PermanentLaunchError as exc:
        raise PrebuildRefused(str(exc)) from None
    if started is not None:
        return PrebuildStart(building=started, started=True)
    current = deps.images.get_image(target.tag)
    if current is None:
        raise PrebuildRefused(f"another build of {target.tag} released its lock; run the command again")
    if current.state is ImageState.READY:
        return PrebuildStart(ready=current)
    if current.state is ImageState.FAILED:
        minutes = int(FAILED_BUILD_COOLDOWN.total_seconds() // 60)
        raise PrebuildRefused(
            f"{build_failure_reason(current)}; a new build may start {minutes} min after it"
        )
    return PrebuildStart(building=current)


def finish_prebuild(deps: Deps, target: ImageTarget, previous: ImageRecord | None) -> ImageRecord:
    """Record READY after a successful build or push, as the build event handler does."""
    found = deps.registry.find(target.tag)
    if found is None:
        raise PrebuildRefused(f"the build finished but {target.tag} is not in the ECR repository")
    return register_ready_image(
        deps, found, previous, base_image=target.base_image, architecture=target.architecture
    )


def lock_local_build(deps: Deps, target: ImageTarget) -> ImageRecord | None:
    """Take the per-tag build lock for a build outside CodeBuild; ``None`` if another build holds it."""
    now = deps.clock.now()
    lock = ImageRecord(
        tag=target.tag,
        base_image=target.base_image,
        architecture=target.architecture,
        state=ImageState.BUILDING,
        created_at=now,
        updated_at=now,
        # Marks the lock as a local build's: the janitor takes it over only after the
        # IMAGE_CREATING timeout, in case this process dies (a killed `images build --local`).
        build_id=f"{LOCAL_BUILD_PREFIX}{uuid.uuid4()}",
    )
    taken = deps.images.lock_build(
        lock,
        retry_failed_before=now,
        stale_lock_before=now - STALE_BUILD_LOCK,
        stale_local_before=now - timedelta(seconds=deps.settings.image_creating_timeout_seconds),
    )
    return lock if taken else None


def release_local_build(deps: Deps, target: ImageTarget) -> None:
    """Give the lock back after a failed local build, so that a later build can start."""
    image = deps.images.get_image(target.tag)
    if (
        image is not None
        and image.state is ImageState.BUILDING
        and (image.build_id or "").startswith(LOCAL_BUILD_PREFIX)
    ):
        deps.images.delete_image(target.tag)
