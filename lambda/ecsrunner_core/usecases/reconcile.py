"""Reconciliation with GitHub, the truth about which jobs wait for a runner (janitor, each run).

Webhooks get lost (GitHub never redelivers a failed delivery on its own) and so do our records'
chances: this finds every job GitHub holds queued with labels we serve and no live runner of ours
that can take it, and accepts it through the same idempotent path a webhook takes. Where the
deployment knows its webhook, failed ``workflow_job`` deliveries are also redelivered, as GitHub
recommends. Everything stays within ``reconcile_github_requests`` GitHub requests per run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from ..domain.labels import LabelError, parse_job_labels
from ..domain.runner import RunnerRecord
from ..ports import GitHubAuthError, GitHubJob, HookRef
from ..webhook import WorkflowJobEvent
from .context import Deadline, Deps, log
from .jobs import accept_queued_job
from .outcomes import JanitorReport
from .repositories import RECENT

# Runs whose jobs may wait for a runner: all of a queued run's, some of an in-progress run's.
RUN_STATUSES = ("queued", "in_progress")
# GitHub cancels a job queued for 24 hours: an older failed delivery no longer matters.
REDELIVERY_WINDOW = timedelta(hours=24)
MAX_REDELIVERIES_PER_DELIVERY = 3


class _BudgetSpent(Exception):
    pass


@dataclass
class Budget:
    """GitHub requests this run may still make."""

    left: int
    spent: int = 0

    def take(self) -> None:
        if self.left <= 0:
            raise _BudgetSpent
        self.left -= 1
        self.spent += 1


def reconcile_with_github(
    deps: Deps,
    report: JanitorReport,
    deadline: Deadline | None = None,
    active: Iterable[RunnerRecord] | None = None,
) -> None:
    """``active``: the runners known to be active (the janitor's own read), else read here."""
    budget = Budget(deps.settings.reconcile_github_requests)
    hook = webhook_ref(deps)
    try:
        if hook is not None:
            _redeliver_failed(deps, hook, Budget(max(1, budget.left // 2)), budget, report)
        _cover_queued_jobs(deps, budget, report, deadline, active)
    except _BudgetSpent:
        limit = deps.settings.reconcile_github_requests
        report.errors.append(f"reconciliation stopped at its budget of {limit} GitHub requests")
    finally:
        report.github_requests += budget.spent


def webhook_ref(deps: Deps) -> HookRef | None:
    if deps.settings.webhook_hook_id is not None:
        return HookRef(hook_id=deps.settings.webhook_hook_id)
    if deps.settings.webhook_app_hook:
        return HookRef(app=True)
    return None


# --- failed deliveries ---------------------------------------------------------------------------


def _redeliver_failed(
    deps: Deps, hook: HookRef, share: Budget, budget: Budget, report: JanitorReport
) -> None:
    """Redeliver failed ``workflow_job`` deliveries of the last 24 hours, each at most three times
    (counted in the table, so overlapping janitor runs do not repeat one)."""
    now = deps.clock.now()
    page: str | None = None
    seen: set[str] = set()
    try:
        while True:
            share.take()
            budget.take()
            deliveries = deps.github.list_hook_deliveries(hook, failed_only=True, page=page)
            for delivery in deliveries.items:  # newest first: the first of a guid is its latest failure
                if delivery.delivered_at < now - REDELIVERY_WINDOW:
                    return
                if delivery.event != "workflow_job" or delivery.succeeded or delivery.guid in seen:
                    continue
                seen.add(delivery.guid)
                if not deps.store.claim_redelivery(
                    delivery.guid,
                    now,
                    failed_at=delivery.delivered_at,
                    max_attempts=MAX_REDELIVERIES_PER_DELIVERY,
                ):
                    continue
                share.take()
                budget.take()
                deps.github.redeliver(hook, delivery.id)
                report.webhooks_redelivered += 1
                deps.metrics.count("WebhooksRedelivered")
                log.info(
                    "redelivered webhook delivery %s (%s %s)", delivery.id, delivery.event, delivery.action
                )
            page = deliveries.next
            if page is None:
                return
    except _BudgetSpent:
        if budget.left <= 0:
            raise  # the whole run's budget, not only this step's share


# --- queued jobs ---------------------------------------------------------------------------------


def _cover_queued_jobs(
    deps: Deps,
    budget: Budget,
    report: JanitorReport,
    deadline: Deadline | None,
    active: Iterable[RunnerRecord] | None,
) -> None:
    queued: list[GitHubJob] = []
    busy: set[str] = set()
    try:
        for repository in _repositories(deps, budget):
            for job in _jobs_of_waiting_runs(deps, repository, budget):
                if job.queued:
                    queued.append(job)
                elif job.status == "in_progress" and job.runner_name:
                    busy.add(job.runner_name)
    except _BudgetSpent:
        # Act on what was found; the next run starts over.
        report.errors.append("reconciliation scanned part of GitHub's queue (request budget)")
    if not queued:
        return
    uncovered = uncovered_jobs(deps, queued, deps.store.active() if active is None else active, busy)
    too_long = deps.settings.queued_too_long_seconds
    for job in uncovered:
        if deadline is not None and deadline.expired:
            report.errors.append("deadline reached during reconciliation; the next run continues")
            return
        outcome = accept_queued_job(deps, event_for(job), deadline, source="reconcile")
        age = deps.clock.now() - job.created_at if job.created_at else None
        if outcome.action != "accepted" and age is not None and age.total_seconds() > too_long:
            report.queued_too_long += 1  # refused or given up: it stays queued, visibly
        if outcome.action == "accepted":
            report.jobs_reconciled += 1
            deps.metrics.count("JobsReconciled")
            log.warning(
                "job %s was queued on GitHub without a runner of ours: %s",
                job.id,
                outcome.detail,
                extra={"job_id": job.id, "runner_name": outcome.runner_name},
            )


def _repositories(deps: Deps, budget: Budget) -> Iterator[str]:
    settings = deps.settings
    if settings.github_repo:
        yield settings.github_repo
        return
    seen: set[str] = set()
    for repository in deps.store.recent_repositories(deps.clock.now() - RECENT):
        if repository.lower() not in seen:
            seen.add(repository.lower())
            yield repository
    page: str | None = None
    while True:
        budget.take()
        try:
            repositories = deps.github.list_installation_repositories(page)
        except GitHubAuthError:
            return  # a PAT: only the repositories that sent jobs are known
        for repository in repositories.items:
            if repository.lower() not in seen:
                seen.add(repository.lower())
                yield repository
        page = repositories.next
        if page is None:
            return


def _jobs_of_waiting_runs(deps: Deps, repository: str, budget: Budget) -> Iterator[GitHubJob]:
    for status in RUN_STATUSES:
        page: str | None = None
        while True:
            budget.take()
            runs = deps.github.list_workflow_runs(repository, status, page)
            for run in runs.items:
                job_page: str | None = None
                while True:
                    budget.take()
                    jobs = deps.github.list_run_jobs(repository, run.id, job_page)
                    yield from jobs.items
                    job_page = jobs.next
                    if job_page is None:
                        break
            page = runs.next
            if page is None:
                break


def uncovered_jobs(
    deps: Deps, queued: Iterable[GitHubJob], active: Iterable[RunnerRecord], busy_on_github: set[str]
) -> list[GitHubJob]:
    """The queued jobs of ours that no live idle runner of ours can take, oldest first.

    A live runner that has not taken a job covers one queued job whose labels it has: first the job
    it was launched for, then any other (GitHub gives an idle runner any job its labels cover). Jobs
    with labels we do not serve are left out; ones we refuse are kept (the accept path records the
    refusal once).
    """
    ours = [job for job in queued if _ours(deps, job)]
    ours.sort(key=lambda job: (job.created_at is None, job.created_at, job.id))
    idle = [
        r
        for r in active
        if not r.terminal and not r.took_job and r.runner_name not in busy_on_github and r.class_name
    ]
    own = {r.job_id: r for r in idle}
    taken: set[str] = set()
    unmatched: list[GitHubJob] = []
    for job in ours:
        runner = own.get(job.id)
        if runner is not None and _covers(runner, job):
            taken.add(runner.runner_name)
        else:
            unmatched.append(job)
    uncovered: list[GitHubJob] = []
    for job in unmatched:
        candidates = [r for r in idle if r.runner_name not in taken and _covers(r, job)]
        if not candidates:
            uncovered.append(job)
            continue
        exact = [r for r in candidates if _labels(r.labels) == _labels(job.labels)]
        taken.add((exact or candidates)[0].runner_name)
    return uncovered


def _ours(deps: Deps, job: GitHubJob) -> bool:
    try:
        return parse_job_labels(job.labels, deps.settings.extra_labels) is not None
    except LabelError:
        return True


def _covers(runner: RunnerRecord, job: GitHubJob) -> bool:
    return _labels(job.labels) <= _labels(runner.labels)


def _labels(labels: Iterable[str]) -> frozenset[str]:
    return frozenset(label.lower() for label in labels)


def event_for(job: GitHubJob) -> WorkflowJobEvent:
    """The ``queued`` event a webhook would have carried for ``job``."""
    owner = job.repository.split("/", 1)[0]
    return WorkflowJobEvent(
        action="queued",
        job_id=job.id,
        run_id=job.run_id,
        run_url=job.html_url,
        job_name=job.name,
        workflow_name=job.workflow_name,
        labels=tuple(job.labels),
        runner_name=None,
        runner_id=None,
        conclusion=None,
        repository=job.repository,
        owner=owner,
        organization=None,
        status=job.status,
        created_at=job.created_at,
    )
