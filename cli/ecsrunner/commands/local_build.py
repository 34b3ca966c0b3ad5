"""``images build --local``: the same image and tag, built by the local Docker engine and pushed to ECR."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ecsrunner_core.domain.images import ImageState
from ecsrunner_core.usecases.prebuild import (
    ImageTarget,
    finish_prebuild,
    lock_local_build,
    ready_image,
    release_local_build,
)
from ecsrunner_core.wiring import Services

from ..console import Console
from ..context import Context
from ..failures import CliError
from .formatting import ready_text

PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}
# cli/ecsrunner/commands/local_build.py -> the repository's runner/ directory (editable installs).
DEFAULT_CONTEXT = Path(__file__).resolve().parents[3] / "runner"


def connect_docker() -> Any:
    """A docker SDK client for the engine of DOCKER_HOST (or the default socket)."""
    try:
        import docker
    except ImportError:
        raise CliError("the docker Python package is not installed: pip install docker") from None
    try:
        return docker.from_env()
    except docker.errors.DockerException as exc:
        raise CliError(f"no Docker engine available: {_one_line(exc)}") from None


def build_locally(context: Context, services: Services, target: ImageTarget) -> int:
    console = context.console
    build_context = Path(context.args.context) if context.args.context else DEFAULT_CONTEXT
    if not (build_context / "Dockerfile").is_file():
        raise CliError(f"no Dockerfile in {build_context}: pass --context DIR (the repository's runner/)")
    deps = services.deps()
    ready = ready_image(deps, target)
    if ready is not None:
        console.line(ready_text("already built", services.registry.image_uri(target.tag), ready))
        return 0
    engine = connect_docker()
    lock = lock_local_build(deps, target)
    if lock is None:
        holder = services.store.get_image(target.tag)
        build = holder.build_id if holder and holder.state is ImageState.BUILDING else None
        raise CliError(
            f"another build ({build or 'starting'}) holds {target.tag}: wait for it with `images build`"
        )
    uri = services.registry.image_uri(target.tag)
    repository, _, tag = uri.rpartition(":")
    try:
        _docker(console, "build", lambda: _build(engine, build_context, uri, target))
        auth = _ecr_login(services)
        _docker(
            console,
            "push",
            lambda: engine.api.push(repository, tag=tag, auth_config=auth, stream=True, decode=True),
        )
        image = finish_prebuild(deps, target, lock)
    except BaseException:
        release_local_build(deps, target)
        raise
    console.line(ready_text("built", uri, image))
    return 0


def _build(engine: Any, build_context: Path, uri: str, target: ImageTarget) -> Iterable[Mapping[str, Any]]:
    stream: Iterable[Mapping[str, Any]] = engine.api.build(
        path=str(build_context),
        tag=uri,
        buildargs={"BASE_IMAGE": target.base_image},
        platform=PLATFORMS[target.architecture],
        pull=True,
        rm=True,
        forcerm=True,
        decode=True,
    )
    return stream


def _docker(console: Console, step: str, start: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
    """Run one streamed engine call, showing its progress; its first error ends the step."""
    import docker

    last_status = None
    try:
        for chunk in start():
            error = (chunk.get("errorDetail") or {}).get("message") or chunk.get("error")
            if error:
                raise CliError(f"docker {step} failed: {_one_line(error)}")
            text = str(chunk.get("stream") or "").rstrip()
            if text:
                console.note(text)
            status = chunk.get("status")
            if status and (chunk.get("id"), status) != last_status:
                last_status = (chunk.get("id"), status)
                console.note(" ".join(str(x) for x in (chunk.get("id"), status) if x))
    except docker.errors.DockerException as exc:
        raise CliError(f"docker {step} failed: {_one_line(exc)}") from None


def _ecr_login(services: Services) -> dict[str, str]:
    data = services.client("ecr").get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return {"username": user, "password": password, "serveraddress": data.get("proxyEndpoint", "")}


def _one_line(value: object) -> str:
    return " ".join(str(value).split())
