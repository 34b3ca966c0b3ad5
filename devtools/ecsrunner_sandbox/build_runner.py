"""What CodeBuild does with the image builds the control plane starts (moto's builds do nothing).

moto records a build but drops its ``environmentVariablesOverride``, so the image tag is found the
way the control plane finds it: the ``BUILD#<build id>`` pointer it wrote next to the image record.
Playing the build means what the buildspec's ``docker push`` leaves behind, an image manifest under
that tag in the runner repository, and then the "CodeBuild Build State Change" SUCCEEDED event,
built from AWS's documented example, onto the bus.
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .event_router import Delivery, EventBus

EVENTS_FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "aws" / "events"
BUILD_EVENT_EXAMPLE = EVENTS_FIXTURES / "codebuild-build-state-change.succeeded.docs.json"
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"

Log = Callable[[str, str], None]
TagLookup = Callable[[str], "tuple[str, str] | None"]  # build id -> (tag, base image)


def console_time(at: datetime) -> str:
    """CodeBuild's event time format: ``Sep 1, 2017 4:12:29 PM``."""
    return f"{at:%b} {at.day}, {at.year} {at.hour % 12 or 12}:{at:%M:%S} {'AM' if at.hour < 12 else 'PM'}"


def image_manifest(tag: str, base_image: str) -> str:
    """A schema 2 manifest standing in for the image the buildspec pushes (content-addressed)."""

    def digest(text: str) -> str:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 7023,
                "digest": digest(f"config {tag}"),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 29_000_000,
                    "digest": digest(f"base {base_image}"),
                },
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 180_000_000,
                    "digest": digest(f"actions-runner {tag}"),
                },
            ],
        }
    )


@dataclass
class PlayedBuild:
    build_id: str
    tag: str
    base_image: str
    started_at: datetime
    finished_at: datetime | None = None
    deliveries: tuple[Delivery, ...] = ()


class ImageBuilds:
    def __init__(
        self,
        *,
        codebuild_client: Any,
        ecr_client: Any,
        bus: EventBus,
        project_name: str,
        tag_for_build: TagLookup,
        log: Log,
    ) -> None:
        self._codebuild = codebuild_client
        self._ecr = ecr_client
        self._bus = bus
        self.project_name = project_name
        self._tag_for_build = tag_for_build
        self._log = log
        self.builds: dict[str, PlayedBuild] = {}
        self._project: dict[str, Any] | None = None

    def project(self) -> dict[str, Any]:
        if self._project is None:
            self._project = dict(self._codebuild.batch_get_projects(names=[self.project_name])["projects"][0])
        return self._project

    def pending(self) -> list[PlayedBuild]:
        return [b for b in self.builds.values() if b.finished_at is None]

    def tick(self) -> bool:
        progressed = False
        ids = self._codebuild.list_builds_for_project(projectName=self.project_name, sortOrder="ASCENDING")[
            "ids"
        ]
        for build_id in ids:
            build = self.builds.get(build_id)
            if build is None:
                found = self._tag_for_build(build_id)
                if found is None:
                    continue  # the control plane writes the pointer right after StartBuild returns
                tag, base = found
                self.builds[build_id] = PlayedBuild(build_id, tag, base, datetime.now(UTC))
                self._log(
                    "codebuild", f"build {build_id.split(':')[-1][:8]} started: {base} → tag {tag[:40]}…"
                )
                progressed = True
            elif build.finished_at is None:
                self._finish(build)
                progressed = True
        return progressed

    def _finish(self, build: PlayedBuild) -> None:
        repository_url = self._repository_url()
        repository = repository_url.split("/", 1)[1]
        self._ecr.put_image(
            repositoryName=repository,
            imageManifest=image_manifest(build.tag, build.base_image),
            imageTag=build.tag,
        )
        build.finished_at = datetime.now(UTC)
        self._log(
            "codebuild", f"build {build.build_id.split(':')[-1][:8]} pushed {repository}:{build.tag[:24]}…"
        )
        build.deliveries = tuple(self._bus.put_event(self.state_change(build, "SUCCEEDED")))
        outcomes = ", ".join(
            str((d.invocation.result or {}).get("detail") or (d.invocation.result or {}).get("outcome"))
            if d.ok
            else f"ERROR {(d.invocation.error or {}).get('errorMessage')}"
            for d in build.deliveries
        )
        self._log("codebuild", f"Build State Change SUCCEEDED → {outcomes or 'no rule matched: dropped'}")

    def _repository_url(self) -> str:
        for variable in self.project().get("environment", {}).get("environmentVariables", []):
            if variable.get("name") == "REPOSITORY_URI":
                return str(variable["value"])
        raise LookupError(f"project {self.project_name} has no REPOSITORY_URI variable")

    def state_change(self, build: PlayedBuild, status: str) -> dict[str, Any]:
        event: dict[str, Any] = copy.deepcopy(json.loads(BUILD_EVENT_EXAMPLE.read_text("utf-8")))
        project = self.project()
        account, region = self._bus.account, self._bus.region
        arn = f"arn:aws:codebuild:{region}:{account}:build/{build.build_id}"
        stream = build.build_id.split(":", 1)[-1]
        environment = project.get("environment", {})
        variables = [
            {"name": v["name"], "value": v.get("value", ""), "type": v.get("type", "PLAINTEXT")}
            for v in environment.get("environmentVariables", [])
        ] + [
            {"name": "BASE_IMAGE", "value": build.base_image, "type": "PLAINTEXT"},
            {"name": "IMAGE_TAG", "value": build.tag, "type": "PLAINTEXT"},
        ]
        logs = (project.get("logsConfig") or {}).get("cloudWatchLogs") or {}
        group = logs.get("groupName") or f"/aws/codebuild/{self.project_name}"
        finished = build.finished_at or datetime.now(UTC)
        info = event["detail"]["additional-information"]
        info.pop("artifact", None)  # the project has no artifacts
        info.update(
            environment={
                "image": environment.get("image"),
                "privileged-mode": bool(environment.get("privilegedMode")),
                "compute-type": environment.get("computeType"),
                "type": environment.get("type"),
                "environment-variables": variables,
            },
            **{
                "timeout-in-minutes": project.get("timeoutInMinutes", 60),
                "build-complete": status in ("SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT"),
                "initiator": f"{self._bus.account}:ecsrunner-control-plane",
                "build-start-time": console_time(build.started_at),
                "source": {
                    "location": (project.get("source") or {}).get("location", ""),
                    "type": (project.get("source") or {}).get("type", "S3"),
                },
                "logs": {
                    "group-name": group,
                    "stream-name": stream,
                    "deep-link": f"https://console.aws.amazon.com/cloudwatch/home?region={region}"
                    f"#logEvent:group={group};stream={stream}",
                },
            },
        )
        for phase in info.get("phases", []):
            if "start-time" in phase:
                phase["start-time"] = console_time(build.started_at)
            if "end-time" in phase:
                phase["end-time"] = console_time(finished)
        event.update(id=str(uuid.uuid4()), account=account, region=region, resources=[arn])
        event["time"] = finished.strftime("%Y-%m-%dT%H:%M:%SZ")
        event["detail"].update({"build-status": status, "project-name": self.project_name, "build-id": arn})
        return event
