"""``images build [BASE_IMAGE]``: start (or follow) the CodeBuild build of a runner image.

The tag, the one-build-per-tag lock and the READY record are the control plane's
(:mod:`ecsrunner_core.usecases.prebuild`), so a job asking for the image later finds it built.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from ecsrunner_core.domain.image_ref import ImageReferenceError
from ecsrunner_core.domain.images import LOCAL_BUILD_PREFIX, ImageRecord, ImageState
from ecsrunner_core.ports import BuildInfo
from ecsrunner_core.usecases.images import BUILD_FAILED_STATES, BUILD_SUCCEEDED
from ecsrunner_core.usecases.prebuild import (
    ImageTarget,
    finish_prebuild,
    image_target,
    ready_image,
    start_prebuild,
)
from ecsrunner_core.wiring import Services

from ..console import Console
from ..context import Context
from ..failures import EXIT_USAGE, CliError
from ..humanize import short_duration
from . import local_build
from .formatting import ready_text

# What both paths need: the derived tag and the task definition registered for a READY image.
BUILD_NEEDS = ("ECR_REPOSITORY_URL", "BASE_TASK_DEFINITION_ARN", "BUILD_CONTEXT_DIGEST")
CODEBUILD_NEEDS = (*BUILD_NEEDS, "CODEBUILD_PROJECT_NAME")
SPINNER = "|/-\\"
# The control plane saves the build id moments after taking the lock; a lock held longer without
# one belongs to a build outside CodeBuild (`images build --local`).
LOCK_WITHOUT_BUILD_SECONDS = 30.0


def build_command(context: Context) -> int:
    args = context.args
    settings = context.deployment_settings("images build", BUILD_NEEDS if args.local else CODEBUILD_NEEDS)
    try:
        target = image_target(settings, args.base_image, args.arch)
    except ImageReferenceError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    services = context.services(settings)
    console = context.console
    console.note(f"{target.base_image} ({target.architecture}) -> {services.registry.image_uri(target.tag)}")
    if args.local:
        return local_build.build_locally(context, services, target)
    deps = services.deps()
    if not settings.enable_image_build:
        ready = ready_image(deps, target)
        if ready is None:
            raise CliError(
                "image builds are disabled in this deployment (ENABLE_IMAGE_BUILD=false): use --local"
            )
        _report_ready(console, services, ready, "already built")
        return 0
    start = start_prebuild(deps, target)
    if start.ready is not None:
        _report_ready(console, services, start.ready, "already built")
        return 0
    image = start.building
    assert image is not None
    timeout = args.timeout if args.timeout is not None else float(settings.image_creating_timeout_seconds)
    deadline = time.monotonic() + timeout
    if _codebuild_id(image) is None:  # another caller holds the lock: starting a build, or local
        soon = min(deadline, time.monotonic() + LOCK_WITHOUT_BUILD_SECONDS)
        image = _wait_for_build_id(services, target, soon, args.poll_interval)
        if image.state is ImageState.READY:
            _report_ready(console, services, image, "built meanwhile")
            return 0
    assert image.build_id is not None
    verb = "started" if start.started else "following the build already in progress:"
    console.note(f"{verb} build {image.build_id}" + (f" (logs: {image.log_url})" if image.log_url else ""))
    if not args.wait:
        console.line(image.build_id)
        return 0
    info = _follow(console, services, image.build_id, deadline, args.poll_interval)
    if info.status != BUILD_SUCCEEDED:
        logs = info.log_url or image.log_url
        raise CliError(f"build {info.build_id} {info.status}" + (f": logs at {logs}" if logs else ""))
    ready = finish_prebuild(deps, target, image)
    _report_ready(console, services, ready, "built")
    return 0


def _codebuild_id(image: ImageRecord) -> str | None:
    """The CodeBuild build holding the lock (a local build's lock has no CodeBuild id)."""
    build_id = image.build_id
    return None if build_id is None or build_id.startswith(LOCAL_BUILD_PREFIX) else build_id


def _report_ready(console: Console, services: Services, image: ImageRecord, how: str) -> None:
    console.line(ready_text(how, services.registry.image_uri(image.tag), image))


def _wait_for_build_id(
    services: Services, target: ImageTarget, deadline: float, interval: float
) -> ImageRecord:
    while True:
        image = services.store.get_image(target.tag)
        if image is None:
            raise CliError(f"the other build of {target.tag} gave up its lock; run the command again")
        if _codebuild_id(image) is not None or image.state is not ImageState.BUILDING:
            if image.state is ImageState.FAILED:
                raise CliError(f"the build of {target.tag} failed: {image.reason or 'unknown reason'}")
            return image
        if time.monotonic() > deadline:
            raise CliError(
                f"{target.tag} is held by a build without a CodeBuild id (`images build --local`?); "
                "try again when it ends"
            )
        time.sleep(interval)


def _follow(
    console: Console, services: Services, build_id: str, deadline: float, interval: float
) -> BuildInfo:
    """Poll the build until it ends: a line per phase change, or a spinner on a terminal."""
    show = _Progress(console, build_id)
    while True:
        info = services.builder.get_build(build_id)
        show(info)
        if info.status == BUILD_SUCCEEDED or info.status in BUILD_FAILED_STATES or info.status == "UNKNOWN":
            show.done()
            return info
        if time.monotonic() > deadline:
            show.done()
            raise CliError(
                f"build {build_id} still {info.status} after the timeout; "
                "`images list` shows it once it is READY"
            )
        time.sleep(interval)


class _Progress:
    def __init__(self, console: Console, build_id: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._console = console
        self._build_id = build_id
        self._clock = clock
        self._started = clock()
        self._last: tuple[str | None, str] | None = None
        self._ticks = 0

    def __call__(self, info: BuildInfo) -> None:
        state = (info.phase, info.status)
        text = f"build {self._build_id}: {info.phase or '-'} ({info.status})"
        if self._console.err_tty:
            self._ticks += 1
            elapsed = short_duration(timedelta(seconds=self._clock() - self._started))
            frame = SPINNER[self._ticks % len(SPINNER)]
            print(f"\r\033[K{frame} {text} {elapsed}", end="", file=self._console.err, flush=True)
        elif state != self._last:
            self._console.note(text)
        self._last = state

    def done(self) -> None:
        if self._console.err_tty:
            print("\r\033[K", end="", file=self._console.err, flush=True)
            if self._last is not None:
                self._console.note(f"build {self._build_id}: {self._last[0] or '-'} ({self._last[1]})")
