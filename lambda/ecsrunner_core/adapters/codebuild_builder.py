"""ImageBuilder on CodeBuild: one build per derived tag, overrides BASE_IMAGE and IMAGE_TAG."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..ports import BuildInfo

if TYPE_CHECKING:
    from mypy_boto3_codebuild import CodeBuildClient

ARM_BUILD_IMAGE = "aws/codebuild/amazonlinux-aarch64-standard:3.0"


def _info(build: Any) -> BuildInfo:
    logs = build.get("logs") or {}
    return BuildInfo(
        build_id=str(build["id"]),
        status=str(build.get("buildStatus", "IN_PROGRESS")),
        log_url=logs.get("deepLink"),
        phase=build.get("currentPhase"),
    )


class CodeBuildImageBuilder:
    def __init__(self, client: CodeBuildClient, project_name: str) -> None:
        self._codebuild = client
        self._project = project_name

    def start_build(self, *, base_image: str, image_tag: str, architecture: str) -> BuildInfo:
        kwargs: dict[str, Any] = {
            "projectName": self._project,
            "environmentVariablesOverride": [
                {"name": "BASE_IMAGE", "value": base_image, "type": "PLAINTEXT"},
                {"name": "IMAGE_TAG", "value": image_tag, "type": "PLAINTEXT"},
            ],
        }
        if architecture == "arm64":
            kwargs.update(
                environmentTypeOverride="ARM_CONTAINER",
                imageOverride=ARM_BUILD_IMAGE,
                computeTypeOverride="BUILD_GENERAL1_LARGE",
            )
        return _info(self._codebuild.start_build(**kwargs)["build"])

    def get_build(self, build_id: str) -> BuildInfo:
        builds = self._codebuild.batch_get_builds(ids=[build_id]).get("builds", [])
        if not builds:
            return BuildInfo(build_id=build_id, status="UNKNOWN")
        return _info(builds[0])
