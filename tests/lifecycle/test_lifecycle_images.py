"""Runner images (issue 6): one CodeBuild build per derived tag however many jobs wait for it; its
state-change event launches or fails them all; a cached image launches with no build; the janitor
covers a build whose event never arrives."""

from __future__ import annotations

from typing import Any

from ecsrunner_core.domain.images import ImageState
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.images import FAILED_BUILD_COOLDOWN
from ecsrunner_core.usecases.janitor import run_janitor

from tests.lifecycle.support import Fault, MakeWorld, World, aws_response

BASE = "ubuntu:22.04"
CANONICAL = "docker.io/library/ubuntu:22.04"


def unbuilt(make_world: MakeWorld, **overrides: Any) -> World:
    return make_world(push_default_image=False, **overrides)


def three_waiting(world: World) -> list[str]:
    names = [world.queue_runner().runner_name for _ in range(3)]
    for name in names:
        assert world.record(name).status is RunnerStatus.IMAGE_CREATING
    return names


def build_id(world: World) -> str:
    image = world.store().get_image(world.image_tag())
    assert image is not None and image.build_id
    return image.build_id


def test_one_build_serves_every_job_waiting_for_the_image(make_world: MakeWorld) -> None:
    world = unbuilt(make_world)
    names = three_waiting(world)
    (start,) = world.calls.of("codebuild.StartBuild")
    assert start.params["projectName"] == world.settings.codebuild_project_name
    overrides = {v["name"]: v["value"] for v in start.params["environmentVariablesOverride"]}
    assert overrides == {"BASE_IMAGE": CANONICAL, "IMAGE_TAG": world.image_tag()}
    image = world.store().get_image(world.image_tag())
    assert image is not None and image.state is ImageState.BUILDING and image.base_image == CANONICAL
    assert world.store().tag_for_build(build_id(world)) == world.image_tag()
    assert world.calls.of("ecs.RunTask") == [] and world.github.calls == []
    reasons = {world.record(n).status_reason for n in names}
    assert reasons == {f"waiting for the runner image build of {CANONICAL}"}
    assert world.metrics.total("ImageBuildsStarted") == 1
    assert world.assert_counter_matches_slots() == 3  # waiting runners hold their slots


def test_a_succeeded_build_event_launches_every_waiting_runner(make_world: MakeWorld) -> None:
    world = unbuilt(make_world)
    names = three_waiting(world)
    world.push_image()  # what the build pushed
    world.clock.advance(300)
    outcome = world.build_event(build_id(world), "SUCCEEDED")
    assert outcome["outcome"] == "image_ready", outcome
    for name in names:
        record = world.record(name)
        assert record.status is RunnerStatus.STARTING and record.task_arn
        assert list(record.status_path) == [
            RunnerStatus.STARTING,
            RunnerStatus.IMAGE_CREATING,
            RunnerStatus.STARTING,
        ]
    assert len(world.tasks()) == 3 and len(world.calls.of("codebuild.StartBuild")) == 1
    image = world.store().get_image(world.image_tag())
    assert image is not None and image.state is ImageState.READY and image.task_definition_arn
    (run, *_) = world.calls.of("ecs.RunTask")
    assert run.params["taskDefinition"] == image.task_definition_arn


def test_a_build_event_carrying_the_image_tag_variable_is_matched_too(make_world: MakeWorld) -> None:
    world = unbuilt(make_world)
    names = three_waiting(world)
    world.push_image()
    outcome = world.build_event(build_id(world), "SUCCEEDED", image_tag=world.image_tag())
    assert outcome["outcome"] == "image_ready"
    assert all(world.record(n).task_arn for n in names)


def test_a_duplicate_succeeded_event_launches_nothing_more(make_world: MakeWorld) -> None:
    world = unbuilt(make_world)
    three_waiting(world)
    world.push_image()
    world.build_event(build_id(world), "SUCCEEDED")
    again = world.build_event(build_id(world), "SUCCEEDED")
    assert again["outcome"] == "image_ready" and "launched 0 of 0" in again["detail"]
    assert len(world.calls.of("ecs.RunTask")) == 3


def test_a_failed_build_event_fails_every_waiting_runner(make_world: MakeWorld) -> None:
    world = unbuilt(make_world)
    names = three_waiting(world)
    outcome = world.build_event(build_id(world), "FAILED")
    assert outcome["outcome"] == "image_failed", outcome
    for name in names:
        record = world.record(name)
        assert record.status is RunnerStatus.FAILED
        assert record.status_reason.startswith(
            f"image build for {CANONICAL} failed: build FAILED (logs: https://"
        )
    image = world.store().get_image(world.image_tag())
    assert image is not None and image.state is ImageState.FAILED
    assert world.calls.of("ecs.RunTask") == [] and world.github.calls == []
    assert world.assert_counter_matches_slots() == 0
    assert world.metrics.total("RunnersFailed", reason="image") == 3


def test_a_build_that_succeeded_without_pushing_fails_the_waiting_runners(make_world: MakeWorld) -> None:
    world = unbuilt(make_world)
    names = three_waiting(world)
    outcome = world.build_event(build_id(world), "SUCCEEDED")
    assert outcome["outcome"] == "image_failed"
    assert all("not in ECR" in world.record(n).status_reason for n in names)


def test_within_the_cooldown_a_failed_image_fails_new_jobs_without_a_new_build(make_world: MakeWorld) -> None:
    world = unbuilt(make_world)
    three_waiting(world)
    world.build_event(build_id(world), "FAILED")
    late = world.queue_runner()
    assert late.status is RunnerStatus.FAILED and "image build for" in late.status_reason
    assert len(world.calls.of("codebuild.StartBuild")) == 1
    world.clock.advance(FAILED_BUILD_COOLDOWN.total_seconds() + 1)
    retry = world.queue_runner()
    assert retry.status is RunnerStatus.IMAGE_CREATING
    assert len(world.calls.of("codebuild.StartBuild")) == 2


def test_a_cached_image_launches_without_a_build(world: World) -> None:
    first, second = world.queue_runner(), world.queue_runner()
    assert first.task_arn and second.task_arn
    assert world.calls.of("codebuild.StartBuild") == []
    assert len(world.calls.of("ecr.DescribeImages")) == 1  # then the READY image record answers
    assert len(world.calls.of("ecs.RegisterTaskDefinition")) == 1
    assert list(first.status_path) == [RunnerStatus.STARTING]


def test_builds_disabled_fails_the_runner_with_a_pre_build_hint(make_world: MakeWorld) -> None:
    world = unbuilt(make_world, enable_image_build=False)
    record = world.queue_runner()
    assert record.status is RunnerStatus.FAILED
    assert "image builds are disabled" in record.status_reason
    assert f"python -m ecsrunner images build {CANONICAL}" in record.status_reason
    assert world.calls.of("codebuild.StartBuild") == [] and world.calls.of("ecs.RunTask") == []
    assert world.assert_counter_matches_slots() == 0


def test_builds_of_another_project_or_unknown_builds_are_ignored(make_world: MakeWorld) -> None:
    world = unbuilt(make_world)
    names = three_waiting(world)
    world.push_image()
    mark = world.calls.mark()
    other = world.build_arn("someone-else:8745a7a9-c340-456a-9166-edf953571bEX")
    from ecsrunner_core.usecases.dispatch import handle_control_plane_event

    from tests.lifecycle.support import build_event

    event = build_event(build_arn=other, project="someone-else", status="SUCCEEDED")
    assert handle_control_plane_event(world.deps(), event)["outcome"] == "ignored"
    unknown = f"{world.settings.codebuild_project_name}:00000000-0000-0000-0000-000000000000"
    assert world.build_event(unknown, "SUCCEEDED")["outcome"] == "ignored"
    assert world.calls.mutations(mark) == []
    assert all(world.record(n).status is RunnerStatus.IMAGE_CREATING for n in names)


def test_the_janitor_launches_the_waiting_runners_of_a_build_whose_event_was_lost(
    make_world: MakeWorld,
) -> None:
    world = unbuilt(make_world)
    names = three_waiting(world)
    world.push_image()
    world.clock.advance(600)
    report = run_janitor(world.deps())
    assert world.calls.of("codebuild.BatchGetBuilds")[0].params == {"ids": [build_id(world)]}
    assert report.images_resumed == 3
    assert all(world.record(n).task_arn for n in names)
    assert len(world.tasks()) == 3


def test_the_janitor_fails_the_waiting_runners_of_a_failed_build_whose_event_was_lost(
    make_world: MakeWorld,
) -> None:
    world = unbuilt(make_world)
    names = three_waiting(world)
    logs = "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=/aws/codebuild/x"
    failed = {
        "builds": [
            {
                "id": build_id(world),
                "buildStatus": "FAILED",
                "currentPhase": "COMPLETED",
                "logs": {"deepLink": logs},
            }
        ]
    }
    world.calls.faults.append(Fault("codebuild.BatchGetBuilds", lambda params: aws_response(failed)))
    world.clock.advance(600)
    report = run_janitor(world.deps())
    assert report.timed_out == 3
    for name in names:
        record = world.record(name)
        assert record.status is RunnerStatus.FAILED
        assert record.status_reason == f"image build for {CANONICAL} failed: build FAILED (logs: {logs})"
    assert len(world.calls.of("codebuild.BatchGetBuilds")) == 1  # the image record answers the others
    assert world.assert_counter_matches_slots() == 0


def test_a_failed_event_of_an_older_build_of_the_tag_is_ignored(make_world: MakeWorld) -> None:
    world = unbuilt(make_world)
    three_waiting(world)
    old_build = build_id(world)
    world.build_event(old_build, "FAILED")
    world.clock.advance(FAILED_BUILD_COOLDOWN.total_seconds() + 1)
    retry = world.queue_runner()
    assert retry.status is RunnerStatus.IMAGE_CREATING and build_id(world) != old_build
    assert world.build_event(old_build, "FAILED")["outcome"] == "ignored"
    assert world.record(retry.runner_name).status is RunnerStatus.IMAGE_CREATING


def test_a_build_that_never_finishes_fails_its_runners_after_the_image_creating_timeout(
    make_world: MakeWorld,
) -> None:
    world = unbuilt(make_world)
    names = three_waiting(world)
    in_progress = {"builds": [{"id": build_id(world), "buildStatus": "IN_PROGRESS", "currentPhase": "BUILD"}]}
    world.calls.faults.append(
        Fault("codebuild.BatchGetBuilds", lambda params: aws_response(in_progress), times=1_000)
    )
    world.clock.advance(world.settings.image_creating_timeout_seconds - 1)
    run_janitor(world.deps())
    assert all(world.record(n).status is RunnerStatus.IMAGE_CREATING for n in names)
    world.clock.advance(2)
    report = run_janitor(world.deps())
    assert report.timed_out == 3
    for name in names:
        record = world.record(name)
        assert record.status is RunnerStatus.FAILED
        assert "IMAGE_CREATING timeout of 3600s" in record.status_reason
    assert world.assert_counter_matches_slots() == 0


def test_a_job_cancelled_while_its_image_builds_retires_the_runner(make_world: MakeWorld) -> None:
    world = unbuilt(make_world)
    record = world.queue_runner()
    world.job_event("completed", job_id=record.job_id, runner_name=None)
    after = world.record(record.runner_name)
    assert after.status is RunnerStatus.OFFLINE
    assert list(after.status_path)[-2:] == [RunnerStatus.IMAGE_CREATING, RunnerStatus.OFFLINE]
    # When the build then succeeds, nothing is launched for it.
    world.push_image()
    world.build_event(build_id(world), "SUCCEEDED")
    assert world.calls.of("ecs.RunTask") == []
