"""``ecsrunner_lambda.janitor.handler`` on the EventBridge schedule's event (the AWS docs sample)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecsrunner_core.adapters.clock import SystemClock
from ecsrunner_core.adapters.dynamodb_store import DynamoDbStore
from ecsrunner_core.domain.names import new_runner_name
from ecsrunner_core.domain.runner import new_runner_record
from ecsrunner_core.domain.status import RunnerStatus

from tests.handlers.conftest import FakeLambdaContext, Handlers, logs, metric_names
from tests.lifecycle.support import fixture_json, new_session


def store(handlers: Handlers) -> DynamoDbStore:
    return DynamoDbStore(new_session().client("dynamodb"), handlers.settings.runner_table, SystemClock())


def test_the_janitor_relaunches_a_runner_whose_launch_never_happened(handlers: Handlers) -> None:
    """A record left STARTING without a task (its launch died) is launched by the next run."""
    from ecsrunner_lambda.janitor import handler

    name = new_runner_name(handlers.settings.name)
    queued = datetime.now(UTC) - timedelta(minutes=10)
    record = new_runner_record(
        runner_name=name,
        job_id=777,
        repository="octo-org/octo-repo",
        labels=("self-hosted", "linux"),
        at=queued,
        reason="job 777 queued",
        class_name="medium",
        image="docker.io/library/ubuntu:22.04",
        image_tag=_default_tag(handlers),
        architecture="x86_64",
    )
    assert store(handlers).create(record)
    context = FakeLambdaContext(
        function_name="ecsr-janitor", aws_request_id="0f2b3c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d"
    )
    report = handler(fixture_json("aws/events/scheduled-event.docs.json"), context)
    assert report["relaunched"] == 1 and report["active_seen"] == 1 and report["errors"] == []
    launched = store(handlers).get(name)
    assert launched is not None and launched.status is RunnerStatus.STARTING and launched.task_arn

    lines = handlers.output()
    run = [line for line in logs(lines) if line["message"] == "janitor run"]
    assert run and run[0]["report"]["relaunched"] == 1
    assert run[0]["function_name"] == "ecsr-janitor"
    assert run[0]["function_request_id"] == context.aws_request_id
    metrics = metric_names(lines)
    assert {"RunnersLaunched", "Janitor_relaunched", "Janitor_orphan_tasks_stopped"} <= set(metrics)


def test_an_idle_janitor_run_reports_nothing_to_do(handlers: Handlers) -> None:
    from ecsrunner_lambda.janitor import handler

    report = handler(fixture_json("aws/events/scheduled-event.docs.json"), FakeLambdaContext())
    assert report == {
        "active_seen": 0,
        "relaunched": 0,
        "timed_out": 0,
        "expired": 0,
        "images_resumed": 0,
        "orphan_tasks_stopped": 0,
        "orphan_runners_deleted": 0,
        "relaunched_jobs": 0,
        "tasks_reconciled": 0,
        "build_locks_recovered": 0,
        "jobs_reconciled": 0,
        "webhooks_redelivered": 0,
        "github_requests": 2,  # the reconciliation: queued runs, in-progress runs (none)
        "queued_too_long": 0,
        "warm_runners_added": 0,
        "warm_runners_retired": 0,
        "errors": [],
    }
    assert not [c for c in handlers.calls.calls if c[0] == "dynamodb" and c[1] == "Scan"]
    # One per active status, then STARTING once more for launches to retry.
    assert handlers.calls.of("dynamodb", "Query") == 5
    assert handlers.calls.of("dynamodb", "GetItem") == 1  # the GitHub rate-limit pause


def _default_tag(handlers: Handlers) -> str:
    from ecsrunner_core.domain.image_ref import parse_image_reference
    from ecsrunner_core.domain.names import derive_image_tag

    settings = handlers.settings
    canonical = parse_image_reference(settings.default_base_image).canonical
    return derive_image_tag(canonical, settings.build_context_digest, "x86_64")


def test_the_rebuild_schedule_rebuilds_an_image_built_a_week_ago(handlers: Handlers) -> None:
    """Issue 15, defect 4: a tag names the base image reference, not its content, so without a
    scheduled rebuild ``ubuntu:22.04`` would never get its security updates."""
    from ecsrunner_core.domain.images import ImageRecord, ImageState
    from ecsrunner_core.domain.names import REBUILD_TAG_PREFIX
    from ecsrunner_lambda.janitor import handler

    built = datetime.now(UTC) - timedelta(days=8)
    tag = _default_tag(handlers)
    store(handlers).save_image(
        ImageRecord(
            tag=tag,
            base_image="docker.io/library/ubuntu:22.04",
            architecture="x86_64",
            state=ImageState.READY,
            created_at=built,
            updated_at=built,
            built_at=built,
            task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/ecsr-runner:1",
        )
    )
    # The input the module's image_rebuild rule sends (modules/control-plane/events.tf).
    report = handler({"ecsrunner": "rebuild-images"}, FakeLambdaContext())
    assert report["rebuilds_started"] == 1 and report["errors"] == [], report
    assert handlers.calls.of("codebuild", "StartBuild") == 1
    rebuilds = [i for i in store(handlers).list_images() if i.rebuild_of == tag]
    assert [r.tag.startswith(REBUILD_TAG_PREFIX) for r in rebuilds] == [True]
    assert metric_names(handlers.output())["ImageRebuildsStarted"][0] == [1.0]
    again = handler({"ecsrunner": "rebuild-images"}, FakeLambdaContext())  # a repeated delivery
    assert again["rebuilds_started"] == 0 and handlers.calls.of("codebuild", "StartBuild") == 1
