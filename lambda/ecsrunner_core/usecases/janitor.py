"""The scheduled janitor: timeouts, TTL, retries, lost build events and orphans.

It reads only active runners (the status index), so its cost follows the fleet, not the history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..domain.images import ImageState
from ..domain.names import is_our_runner_name
from ..domain.runner import RunnerRecord
from ..domain.status import RunnerStatus
from .context import Deadline, Deps, log
from .errors import describe_error
from .github_pause import github_paused_until
from .images import BUILD_FAILED_STATES, build_failure_reason, record_build_failure, register_ready_image
from .launch import launch_runner
from .outcomes import JanitorReport
from .records import move
from .retire import launch_waiting, retire_runner


def run_janitor(deps: Deps, deadline: Deadline | None = None) -> JanitorReport:
    report = JanitorReport()
    active = list(deps.store.active())
    report.active_seen = len(active)
    active_names = {r.runner_name for r in active}
    for record in active:
        if deadline is not None and deadline.expired:
            report.errors.append("deadline reached; the next run continues")
            break
        ended_before = report.timed_out + report.expired
        try:
            _check_runner(deps, record, report, deadline)
        except Exception as exc:  # one bad record must not stop the sweep
            report.errors.append(f"{record.runner_name}: {describe_error(exc)}")
            log.exception("janitor: %s", record.runner_name, extra={"runner_name": record.runner_name})
        if report.timed_out + report.expired > ended_before:
            # Ended by this run: if stopping its task or deleting its registration failed, the
            # orphan sweeps below retry it now rather than in the next run.
            active_names.discard(record.runner_name)
    if not (deadline is not None and deadline.expired):
        # Launches that failed, waited for capacity (freed above, too) or were deferred by a GitHub
        # rate limit, oldest first; a rate-limit pause that ends within this run is waited out.
        try:
            report.relaunched += launch_waiting(deps, deadline, wait_for_github=True)
        except Exception as exc:
            report.errors.append(f"launch_waiting: {describe_error(exc)}")
            log.exception("janitor: launching waiting runners failed")
        if github_paused_until(deps) is not None:
            report.errors.append("GitHub rate limit: some launches wait for the next run")
    for sweep in (_stop_orphan_tasks, _delete_orphan_registrations):
        if deadline is not None and deadline.expired:
            break
        try:
            sweep(deps, active_names, report)
        except Exception as exc:
            report.errors.append(f"{sweep.__name__}: {describe_error(exc)}")
            log.exception("janitor: %s failed", sweep.__name__)
    for name, value in report.as_dict().items():
        if isinstance(value, int) and name != "active_seen":
            deps.metrics.count(f"Janitor_{name}", value)
    log.info("janitor run", extra={"report": report.as_dict()})
    return report


def _over(since: datetime, seconds: int, now: datetime) -> bool:
    return now - since > timedelta(seconds=seconds)


def _check_runner(deps: Deps, record: RunnerRecord, report: JanitorReport, deadline: Deadline | None) -> None:
    settings, now = deps.settings, deps.clock.now()
    name = record.runner_name
    if _over(record.created_at, settings.runner_ttl_seconds, now):
        retire_runner(
            deps, name, RunnerStatus.FAILED, f"exceeded the runner TTL of {settings.runner_ttl_seconds}s"
        )
        report.expired += 1
        return
    if record.status is RunnerStatus.STARTING:
        if record.task_arn and _over(record.status_since, settings.starting_timeout_seconds, now):
            retire_runner(
                deps,
                name,
                RunnerStatus.FAILED,
                f"task not RUNNING within the STARTING timeout of {settings.starting_timeout_seconds}s",
            )
            report.timed_out += 1
    elif record.status is RunnerStatus.IMAGE_CREATING:
        _check_image_wait(deps, record, report, deadline)
    elif record.status is RunnerStatus.WAITING_FOR_JOB and _over(
        record.status_since, settings.waiting_for_job_timeout_seconds, now
    ):
        retire_runner(
            deps,
            name,
            RunnerStatus.FAILED,
            f"no job within the WAITING_FOR_JOB timeout of {settings.waiting_for_job_timeout_seconds}s",
        )
        report.timed_out += 1


def _check_image_wait(
    deps: Deps, record: RunnerRecord, report: JanitorReport, deadline: Deadline | None
) -> None:
    """Covers a lost or never-sent CodeBuild event."""
    settings, now, name = deps.settings, deps.clock.now(), record.runner_name
    image = deps.images.get_image(record.image_tag or "")
    if (
        image is not None
        and image.state is ImageState.BUILDING
        and image.build_id
        and deps.builder is not None
    ):
        build = deps.builder.get_build(image.build_id)
        if build.status == "SUCCEEDED":
            found = deps.registry.find(image.tag)
            if found is not None:
                image = register_ready_image(
                    deps, found, image, base_image=image.base_image, architecture=image.architecture
                )
        elif build.status in BUILD_FAILED_STATES:
            image = record_build_failure(deps, image, build.build_id, f"build {build.status}", build.log_url)
    if image is not None and image.state is ImageState.FAILED:
        move(deps, name, RunnerStatus.FAILED, build_failure_reason(image))
        report.timed_out += 1
    elif image is None or image.state is ImageState.READY:
        move(deps, name, RunnerStatus.STARTING, "resuming launch after the image wait")
        launch_runner(deps, name, deadline)
        report.images_resumed += 1
    elif _over(record.status_since, settings.image_creating_timeout_seconds, now):
        retire_runner(
            deps,
            name,
            RunnerStatus.FAILED,
            f"image build did not finish within the IMAGE_CREATING timeout of "
            f"{settings.image_creating_timeout_seconds}s",
        )
        report.timed_out += 1


def _stop_orphan_tasks(deps: Deps, active_names: set[str], report: JanitorReport) -> None:
    for task in deps.launcher.list_tasks():
        name = task.started_by or task.tags.get("ecsrunner:runner-name")
        if not is_our_runner_name(deps.settings.name, name) or name in active_names:
            continue
        record = deps.store.get(name or "")
        if record is not None and not record.terminal:
            continue  # created after our snapshot
        deps.launcher.stop_task(
            task.task_arn, f"orphan: runner {name} is {record.status if record else 'unknown'}"
        )
        report.orphan_tasks_stopped += 1


def _delete_orphan_registrations(deps: Deps, active_names: set[str], report: JanitorReport) -> None:
    for runner in deps.github.list_runners():
        if runner.busy or runner.status != "offline" or runner.name in active_names:
            continue
        if not is_our_runner_name(deps.settings.name, runner.name):
            continue
        record = deps.store.get(runner.name)
        if record is not None and not record.terminal:
            continue
        deps.github.delete_runner(runner.id)
        report.orphan_runners_deleted += 1
