"""Scheduled image rebuilds (issue 15, defect 4): an image built once is rebuilt on the schedule under
a new tag, one build per image at a time; jobs keep launching on the current build until the
rebuild is READY, then on the rebuild; a failed rebuild keeps the current build and is visible."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ecsrunner_core.domain.images import ImageRecord, ImageState
from ecsrunner_core.domain.names import REBUILD_TAG_PREFIX, rebuild_image_tag
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.image_refresh import REBUILD_MIN_AGE, rebuild_images

from tests.lifecycle.support import IMAGE_MANIFEST, Fault, MakeWorld, World, aws_response

CANONICAL = "docker.io/library/ubuntu:22.04"


def week_later(world: World) -> None:
    # ECR's pushed times are the machine's: move the fake clock past them.
    world.clock.current = datetime.now(UTC).replace(microsecond=0) + timedelta(days=8)


def built_world(make_world: MakeWorld) -> World:
    world = make_world()
    first = world.queue_runner()  # the first build (pushed already) becomes READY
    assert first.task_arn
    week_later(world)
    return world


def image(world: World, tag: str | None = None) -> ImageRecord:
    record = world.store().get_image(tag or world.image_tag())
    assert record is not None
    return record


def container_image(world: World, task_definition_arn: str) -> str:
    described = world.client("ecs").describe_task_definition(taskDefinition=task_definition_arn)
    return str(described["taskDefinition"]["containerDefinitions"][0]["image"])


def push(world: World, tag: str) -> None:
    repository = world.settings.ecr_repository_url.split("/", 1)[1]
    world.client("ecr").put_image(repositoryName=repository, imageManifest=IMAGE_MANIFEST, imageTag=tag)


def start_rebuild(world: World) -> ImageRecord:
    report = rebuild_images(world.deps())
    assert report.rebuilds_started == 1 and report.errors == [], report
    rebuilt = [i for i in world.store().list_images() if i.rebuild_of == world.image_tag()]
    (building,) = [i for i in rebuilt if i.state is ImageState.BUILDING]
    return building


def test_an_image_built_before_the_schedule_is_rebuilt_under_a_new_tag(make_world: MakeWorld) -> None:
    world = built_world(make_world)
    old = image(world)
    building = start_rebuild(world)
    assert building.tag == rebuild_image_tag(world.image_tag(), world.clock.now())
    assert building.tag.startswith(REBUILD_TAG_PREFIX) and building.tag.endswith(world.image_tag()[-40:])
    assert building.base_image == CANONICAL and building.architecture == "x86_64" and building.build_id
    (start,) = world.calls.of("codebuild.StartBuild")
    overrides = {v["name"]: v["value"] for v in start.params["environmentVariablesOverride"]}
    assert overrides == {"BASE_IMAGE": CANONICAL, "IMAGE_TAG": building.tag}
    assert world.store().tag_for_build(building.build_id or "") == building.tag
    assert image(world) == old  # the image serves its first build until the rebuild is READY
    assert world.metrics.total("ImageRebuildsStarted") == 1


def test_one_rebuild_per_image_however_often_the_schedule_fires(make_world: MakeWorld) -> None:
    world = built_world(make_world)
    start_rebuild(world)
    # A repeated delivery, and the next run while the build still runs (moto says SUCCEEDED).
    in_progress = {"builds": [{"id": "x", "buildStatus": "IN_PROGRESS", "currentPhase": "BUILD"}]}
    world.calls.faults.append(
        Fault("codebuild.BatchGetBuilds", lambda params: aws_response(in_progress), times=2)
    )
    for _ in range(2):
        world.clock.advance(3600)
        report = rebuild_images(world.deps())
        assert report.rebuilds_started == 0 and report.rebuilds_in_progress == 1, report
    assert len(world.calls.of("codebuild.StartBuild")) == 1


def test_jobs_launch_on_the_current_build_during_the_rebuild_then_on_the_rebuild(
    make_world: MakeWorld,
) -> None:
    world = built_world(make_world)
    first_definition = image(world).task_definition_arn
    assert first_definition
    building = start_rebuild(world)
    during = world.queue_runner()
    assert during.status is RunnerStatus.STARTING and during.task_arn  # no wait for the rebuild
    runs = world.calls.of("ecs.RunTask")
    assert runs[-1].params["taskDefinition"] == first_definition

    push(world, building.tag)
    outcome = world.build_event(building.build_id or "", "SUCCEEDED")
    assert outcome["outcome"] == "image_rebuilt", outcome
    served = image(world)
    assert served.state is ImageState.READY and served.current_tag == building.tag
    assert served.serving_tag == building.tag and served.task_definition_arn != first_definition
    assert container_image(world, served.task_definition_arn or "").endswith(f":{building.tag}")
    assert image(world, building.tag).state is ImageState.READY

    after = world.queue_runner()
    assert after.task_arn and after.image_tag == world.image_tag()  # runners name the image, not the build
    assert world.calls.of("ecs.RunTask")[-1].params["taskDefinition"] == served.task_definition_arn
    assert len(world.calls.of("codebuild.StartBuild")) == 1
    assert world.metrics.total("ImageRebuildsReady") == 1


def test_a_failed_rebuild_keeps_the_current_build_and_is_visible(make_world: MakeWorld) -> None:
    world = built_world(make_world)
    old = image(world)
    building = start_rebuild(world)
    outcome = world.build_event(building.build_id or "", "FAILED")
    assert outcome["outcome"] == "image_failed", outcome
    failed = image(world, building.tag)
    assert failed.state is ImageState.FAILED and failed.rebuild_of == world.image_tag()
    assert failed.reason == "build FAILED" and failed.log_url
    assert world.metrics.total("ImageRebuildsFailed") == 1
    assert image(world) == old
    record = world.queue_runner()
    assert record.status is RunnerStatus.STARTING and record.task_arn  # jobs are never refused
    assert world.calls.of("ecs.RunTask")[-1].params["taskDefinition"] == old.task_definition_arn
    # The next scheduled run tries again under a new tag.
    world.clock.advance(timedelta(days=7).total_seconds())
    retry = start_rebuild(world)
    assert retry.tag != building.tag


def test_a_rebuild_whose_event_was_lost_is_settled_by_the_next_run(make_world: MakeWorld) -> None:
    world = built_world(make_world)
    building = start_rebuild(world)
    push(world, building.tag)
    world.clock.advance(timedelta(days=7).total_seconds())
    report = rebuild_images(world.deps())  # moto: BatchGetBuilds says SUCCEEDED
    assert report.rebuilds_finished == 1, report
    assert image(world).current_tag == building.tag
    # The image was just rebuilt: this run starts nothing more.
    assert report.rebuilds_started == 0 and len(world.calls.of("codebuild.StartBuild")) == 1


def test_a_late_older_rebuild_does_not_replace_a_newer_one(make_world: MakeWorld) -> None:
    world = built_world(make_world)
    older = start_rebuild(world)
    world.calls.faults.append(
        Fault(
            "codebuild.BatchGetBuilds",
            lambda params: aws_response(
                {"builds": [{"id": older.build_id, "buildStatus": "FAILED", "currentPhase": "COMPLETED"}]}
            ),
        )
    )
    world.clock.advance(timedelta(days=7).total_seconds())
    newer = start_rebuild(world)  # the older one is settled FAILED first
    push(world, newer.tag)
    world.build_event(newer.build_id or "", "SUCCEEDED")
    assert image(world).current_tag == newer.tag
    # The older build's success arrives late (its record was FAILED by the poll): nothing changes.
    push(world, older.tag)
    outcome: dict[str, Any] = world.build_event(older.build_id or "", "SUCCEEDED")
    assert image(world).current_tag == newer.tag, outcome


def test_images_built_recently_or_not_ready_are_not_rebuilt(make_world: MakeWorld) -> None:
    world = make_world(push_default_image=False)
    waiting = world.queue_runner()
    assert waiting.status is RunnerStatus.IMAGE_CREATING  # BUILDING: not rebuilt
    world.clock.current = datetime.now(UTC) + REBUILD_MIN_AGE / 2
    world.push_image()
    report = rebuild_images(world.deps())
    assert report.rebuilds_started == 0 and len(world.calls.of("codebuild.StartBuild")) == 1


def test_rebuilds_need_image_builds(make_world: MakeWorld) -> None:
    world = make_world(enable_image_build=False)
    assert world.queue_runner().task_arn
    week_later(world)
    report = rebuild_images(world.deps())
    assert report.rebuilds_started == 0 and report.errors == ["image builds are disabled: nothing to rebuild"]
    assert world.calls.of("codebuild.StartBuild") == []
