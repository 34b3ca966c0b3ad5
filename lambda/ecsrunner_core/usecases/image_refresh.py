"""Scheduled rebuilds of runner images (docs/DESIGN.md, "Image rebuilds").

A derived tag names the base image *reference* and the build context, not the base image's
content: without rebuilds, ``ubuntu:22.04`` is built once and never gets a security update or a new
runner version. On the ``image_rebuild_schedule`` the janitor function starts one rebuild per READY
image built before the run, each under its own tag (``_r<time>-<tag>``, ECR tags are immutable) and
its own record (``rebuild_of`` names the image). Jobs keep launching on the image's current build
meanwhile; when the rebuild is READY, the image's record switches to it (``current_tag``, task
definition) and new launches use it. A failed rebuild is recorded on its own record (FAILED, with
its reason and logs) and counted; the image keeps serving its current build. Old rebuild tags
expire by the ECR lifecycle policy (``image_rebuild_retention_days``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ..domain.images import LOCAL_BUILD_PREFIX, ImageRecord, ImageState
from ..domain.names import rebuild_image_tag, rebuild_stamp
from .context import Deadline, Deps, log
from .errors import describe_error
from .images import (
    BUILD_FAILED_STATES,
    BUILD_SUCCEEDED,
    record_build_failure,
    register_ready_image,
    start_image_build,
)
from .leases import run_alone

REBUILD_EVENT = {"ecsrunner": "rebuild-images"}  # the schedule's input to the janitor function
REBUILD_LEASE = "image-rebuild"
# An image built (or rebuilt) this recently is not rebuilt: a repeated delivery of the schedule's
# event, or a first build that just finished, is left alone.
REBUILD_MIN_AGE = timedelta(hours=1)
# A rebuild whose lock never got a build id this long ago lost its holder (StartBuild takes a second).
STALE_REBUILD_LOCK = timedelta(minutes=5)


@dataclass
class RebuildReport:
    images_seen: int = 0  # READY images (first builds) considered
    rebuilds_started: int = 0
    rebuilds_in_progress: int = 0  # images whose previous rebuild is still building
    rebuilds_finished: int = 0  # rebuilds whose build event never came, settled by this run
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def rebuild_images(deps: Deps, deadline: Deadline | None = None) -> RebuildReport:
    """Start a rebuild of every READY image whose current build is older than this run."""
    report = RebuildReport()
    if not deps.settings.enable_image_build or deps.builder is None:
        report.errors.append("image builds are disabled: nothing to rebuild")
        return report
    with run_alone(deps, REBUILD_LEASE, deadline) as alone:
        if not alone:
            report.errors.append("another image rebuild run is in progress")
            return report
        _rebuild(deps, deadline, report)
    deps.metrics.count("ImageRebuildsStarted", report.rebuilds_started)
    log.info("image rebuild run", extra={"report": report.as_dict()})
    return report


def _rebuild(deps: Deps, deadline: Deadline | None, report: RebuildReport) -> None:
    images = list(deps.images.list_images())
    building: set[str] = set()
    rebuilt: set[str] = set()  # settled READY by this run: not rebuilt again
    for image in images:
        if image.rebuild_of is not None and image.state is ImageState.BUILDING:
            try:
                settled = _settle(deps, image, report)
            except Exception as exc:
                report.errors.append(f"{image.tag}: {describe_error(exc)}")
                log.exception("image rebuild: following %s failed", image.tag)
                settled = None  # do not start a second build beside it
            if settled is None:
                building.add(image.rebuild_of)
            elif settled.state is ImageState.READY:
                rebuilt.add(image.rebuild_of)
    now = deps.clock.now()
    for image in images:
        if image.rebuild_of is not None or image.state is not ImageState.READY:
            continue
        report.images_seen += 1
        if image.tag in building:
            report.rebuilds_in_progress += 1
            continue
        if image.tag in rebuilt or (image.built_at or image.created_at) > now - REBUILD_MIN_AGE:
            continue
        if deadline is not None and deadline.expired:
            report.errors.append("deadline reached; the next scheduled run rebuilds the rest")
            return
        try:
            if start_rebuild(deps, image, now) is not None:
                report.rebuilds_started += 1
        except Exception as exc:  # one image must not stop the others
            report.errors.append(f"{image.tag}: {describe_error(exc)}")
            log.exception("image rebuild of %s could not start", image.tag)


def start_rebuild(deps: Deps, image: ImageRecord, at: datetime) -> ImageRecord | None:
    """Start the rebuild of ``image`` for ``at``; None when its tag's lock is already held."""
    tag = rebuild_image_tag(image.tag, at)
    started = start_image_build(
        deps, base_image=image.base_image, tag=tag, architecture=image.architecture, rebuild_of=image.tag
    )
    if started is not None:
        log.info("image %s: rebuild %s started as %s", image.tag, started.build_id, tag)
    return started


def _settle(deps: Deps, rebuild: ImageRecord, report: RebuildReport) -> ImageRecord | None:
    """Settle a rebuild whose build event never came: its record as it now is (READY, FAILED or
    deleted, a lock whose holder died), or None while its build still runs."""
    now = deps.clock.now()
    settled: ImageRecord | None
    if not rebuild.build_id:
        if now - rebuild.updated_at <= STALE_REBUILD_LOCK:
            return None
        deps.images.delete_image(rebuild.tag)  # its holder died before StartBuild
        settled = replace(rebuild, state=ImageState.FAILED, reason="the rebuild never started")
    elif rebuild.build_id.startswith(LOCAL_BUILD_PREFIX) or deps.builder is None:
        return None
    else:
        build = deps.builder.get_build(rebuild.build_id)
        if build.status == BUILD_SUCCEEDED:
            settled = finish_rebuild(deps, rebuild)
        elif build.status in BUILD_FAILED_STATES:
            settled = record_build_failure(
                deps, rebuild, build.build_id, f"build {build.status}", build.log_url
            )
        else:
            return None
    report.rebuilds_finished += 1
    return settled


def finish_rebuild(deps: Deps, rebuild: ImageRecord) -> ImageRecord:
    """The rebuild's build succeeded: register it READY and let the image serve it. Returns the
    rebuild's record (FAILED when the pushed tag is missing)."""
    found = deps.registry.find(rebuild.tag)
    if found is None:
        reason = "build succeeded but the image tag is not in ECR"
        return record_build_failure(deps, rebuild, rebuild.build_id or "", reason, None)
    ready = register_ready_image(
        deps, found, rebuild, base_image=rebuild.base_image, architecture=rebuild.architecture
    )
    promote_rebuild(deps, ready)
    return ready


def promote_rebuild(deps: Deps, ready: ImageRecord) -> ImageRecord | None:
    """New launches of ``ready.rebuild_of`` use ``ready`` unless it already serves a newer build."""
    image = deps.images.get_image(ready.rebuild_of or "")
    if image is None or image.state is not ImageState.READY:
        log.warning("image rebuild %s finished, but %s is no longer READY", ready.tag, ready.rebuild_of)
        return image
    if rebuild_stamp(image.serving_tag) >= rebuild_stamp(ready.tag):
        return image  # a later rebuild finished first
    promoted = replace(
        image,
        current_tag=ready.tag,
        task_definition_arn=ready.task_definition_arn,
        derived_from=ready.derived_from,
        built_at=ready.built_at,
        size_bytes=ready.size_bytes,
        updated_at=deps.clock.now(),
    )
    deps.images.save_image(promoted)
    deps.metrics.count("ImageRebuildsReady")
    log.info("image %s: new launches use its rebuild %s (was %s)", image.tag, ready.tag, image.serving_tag)
    return promoted
