"""Warm pools: idle JIT runners registered ahead of the jobs, so a job starts in seconds.

A warm runner is an ordinary ephemeral runner whose record has no job yet (``job_id`` 0) and names
its ``pool``; it registers with every label a job of its pool may carry, so GitHub gives it such a
job the moment the job is queued. The control plane then *claims* it for the job (one conditional
write: the job's guard and the runner, so a burst larger than the pool claims each warm runner once
and the rest launch cold) and starts a replacement to refill the pool. From then on it is a runner
of that job like any other: if GitHub gave it another job, the usual successor rules cover both.
The janitor keeps each pool at its scheduled size, retires surplus idle runners (never busy ones)
and recycles runners idle longer than the pool's maximum idle age.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.image_ref import parse_image_reference
from ..domain.names import derive_image_tag, new_runner_name
from ..domain.pools import WarmPool, pool_labels
from ..domain.runner import RunnerRecord, new_runner_record
from ..domain.status import RunnerStatus
from ..webhook import WorkflowJobEvent
from .context import Deadline, Deps, log
from .errors import describe_error
from .launch import launch_runner
from .outcomes import JanitorReport, Outcome
from .records import LAUNCH_LEASE
from .retire import retire_if_idle

CLAIM_TRIES = 3


def pool_image(deps: Deps, pool: WarmPool) -> str:
    return pool.image or parse_image_reference(deps.settings.default_base_image).canonical


def labels_of(deps: Deps, pool: WarmPool) -> tuple[str, ...] | None:
    """The labels a runner of ``pool`` registers with (None when its class is not defined)."""
    size = deps.classes.load().get(pool.class_name)
    if size is None:
        return None
    image_label = pool.image if pool.image else None
    return pool_labels(size.name, size.architecture.runner_label, image_label, deps.settings.extra_labels)


def pool_for(deps: Deps, class_name: str, image: str, job_labels: Iterable[object]) -> WarmPool | None:
    """The pool whose runners can run this job: same class, same image, every label of the job."""
    wanted = [str(label).lower() for label in job_labels]
    for pool in deps.settings.warm_pools:
        if pool.class_name != class_name or pool_image(deps, pool) != image:
            continue
        labels = labels_of(deps, pool)
        if labels is not None and set(wanted) <= {label.lower() for label in labels}:
            return pool
    return None


def claim_warm_runner(
    deps: Deps,
    event: WorkflowJobEvent,
    pool: WarmPool,
    fields: dict[str, object],
    deadline: Deadline | None,
) -> Outcome | None:
    """Give the job an idle warm runner of ``pool`` instead of a cold task; None when none is free.
    A duplicate delivery finds the job's guard: its outcome is a duplicate."""
    for _ in range(CLAIM_TRIES):
        candidates = list(deps.store.claimable(pool.name, limit=CLAIM_TRIES))
        if not candidates:
            return None
        for warm in candidates:
            now = deps.clock.now()
            claimed = warm.touch(
                now,
                job_id=event.job_id,
                repository=event.repository,
                **{key: value for key, value in fields.items() if key in _JOB_FIELDS},
            ).note(f"claimed for job {event.job_id} (warm pool {pool.name})", now)
            result = deps.store.claim(claimed, expected_version=warm.version)
            if result.created:
                deps.metrics.count("WarmPoolClaims", pool=pool.name)
                log.info(
                    "job %s takes warm runner %s (pool %s)",
                    event.job_id,
                    warm.runner_name,
                    pool.name,
                    extra={"job_id": event.job_id, "runner_name": warm.runner_name},
                )
                refill(deps, pool, f"refills warm pool {pool.name} after a claim", deadline)
                return Outcome("accepted", f"warm runner from pool {pool.name}", warm.runner_name)
            if result.existing_runner is not None:
                return Outcome(
                    "duplicate", f"job {event.job_id} already has a runner", result.existing_runner
                )
    return None


_JOB_FIELDS = frozenset({"run_id", "run_url", "workflow_name", "job_name", "job_queued_at"})


def claim_on_start(deps: Deps, runner: RunnerRecord, job_id: int) -> None:
    """GitHub gave an unclaimed warm runner a job before its ``queued`` delivery claimed one: the
    job's guard names it now (a later ``queued`` is a duplicate), and its pool is refilled."""
    if runner.job_id or runner.pool is None:
        return
    pool = next((p for p in deps.settings.warm_pools if p.name == runner.pool), None)
    now = deps.clock.now()
    claimed = runner.touch(now, job_id=job_id).note(f"took job {job_id} (warm pool {runner.pool})", now)
    result = deps.store.claim(claimed, expected_version=runner.version)
    if result.created:
        deps.metrics.count("WarmPoolClaims", pool=runner.pool)
    if pool is not None:
        refill(deps, pool, f"refills warm pool {pool.name}: a runner took a job", None)


def refill(deps: Deps, pool: WarmPool, reason: str, deadline: Deadline | None) -> None:
    """Refill after a claim: the job already has its runner, so a failure here must not fail the
    delivery (GitHub would record it failed); the janitor keeps the pool at its size."""
    try:
        add_pool_runner(deps, pool, reason, deadline)
    except Exception as exc:
        log.warning("warm pool %s not refilled (the janitor refills it): %s", pool.name, describe_error(exc))


def add_pool_runner(
    deps: Deps, pool: WarmPool, reason: str, deadline: Deadline | None, *, launch: bool = True
) -> RunnerRecord | None:
    """A new warm runner for ``pool`` (None when its class is no longer defined)."""
    labels = labels_of(deps, pool)
    size = deps.classes.load().get(pool.class_name)
    if labels is None or size is None:
        log.warning("warm pool %s: class %r is not defined", pool.name, pool.class_name)
        return None
    now = deps.clock.now()
    image = pool_image(deps, pool)
    architecture = size.architecture.value
    record = new_runner_record(
        runner_name=new_runner_name(deps.settings.name),
        job_id=0,
        repository=deps.settings.github_repo or deps.settings.github_org or "",
        labels=labels,
        at=now,
        reason=reason,
        fields={
            "pool": pool.name,
            "class_name": size.name,
            "image": image,
            "image_tag": derive_image_tag(image, deps.settings.build_context_digest, architecture),
            "architecture": architecture,
            "next_attempt_at": now + LAUNCH_LEASE if launch else None,
        },
    )
    stored = deps.store.create_pool_runner(record, take_slot=launch)
    if not launch:
        return stored
    return launch_runner(deps, stored.runner_name, deadline, current=stored) or stored


def refill_pool(deps: Deps, pool_name: str, reason: str, deadline: Deadline | None) -> None:
    """A warm runner ended unclaimed (its task died, or it was retired): one replaces it while the
    pool wants runners now (the janitor evens out the count)."""
    pool = next((p for p in deps.settings.warm_pools if p.name == pool_name), None)
    if pool is not None and pool.target_size(deps.clock.now()) > 0:
        add_pool_runner(deps, pool, reason, deadline)


def members(active: Iterable[RunnerRecord], pool: str) -> list[RunnerRecord]:
    """The pool's live runners nobody claimed and that took no job."""
    return [r for r in active if r.pool == pool and not r.job_id and not r.terminal and not r.took_job]


def _retire_removed_pools(deps: Deps, active: list[RunnerRecord], report: JanitorReport) -> None:
    """The idle runners of a pool no longer in warm_pools go (GitHub asked first)."""
    configured = {pool.name for pool in deps.settings.warm_pools}
    removed = {r.pool for r in active if r.pool and r.pool not in configured}
    for record in [r for name in removed for r in members(active, name)]:
        if retire_if_idle(deps, record, RunnerStatus.OFFLINE, f"warm pool {record.pool} was removed"):
            report.warm_runners_retired += 1


def maintain_pools(
    deps: Deps, active: list[RunnerRecord], report: JanitorReport, deadline: Deadline | None
) -> None:
    """Each pool at its size now: recycle runners idle past the pool's maximum idle age (their
    replacement first), add missing runners, retire surplus idle ones (GitHub asked first: a busy
    runner is never stopped)."""
    now = deps.clock.now()
    _retire_removed_pools(deps, active, report)
    for pool in deps.settings.warm_pools:
        if deadline is not None and deadline.expired:
            return
        target = pool.target_size(now)
        live = members(active, pool.name)
        for old in [r for r in live if _idle_too_long(r, pool, now)]:
            if len(live) <= target:
                reason = f"replaces {old.runner_name} (idle past {pool.max_idle_seconds}s)"
                replacement = add_pool_runner(deps, pool, reason, deadline)
                if replacement is not None:
                    live.append(replacement)
                    report.warm_runners_added += 1
            retired = retire_if_idle(
                deps, old, RunnerStatus.OFFLINE, f"recycled: idle longer than {pool.max_idle_seconds}s"
            )
            if retired is not None:
                report.warm_runners_retired += 1
                live.remove(old)
        for _ in range(max(target - len(live), 0)):
            if deadline is not None and deadline.expired:
                break
            added = add_pool_runner(deps, pool, f"fills warm pool {pool.name} ({target} wanted)", deadline)
            if added is not None:
                report.warm_runners_added += 1
        surplus = len(live) - target
        for extra in sorted(live, key=_retire_first)[: max(surplus, 0)]:
            ended = retire_if_idle(
                deps, extra, RunnerStatus.OFFLINE, f"warm pool {pool.name} shrinks to {target}"
            )
            if ended is not None:
                report.warm_runners_retired += 1
        idle = sum(1 for r in live if r.status is RunnerStatus.WAITING_FOR_JOB)
        deps.metrics.count("WarmPoolTarget", target, pool=pool.name)
        deps.metrics.count("WarmPoolLive", len(live), pool=pool.name)
        deps.metrics.count("WarmPoolIdle", idle, pool=pool.name)


def _idle_too_long(record: RunnerRecord, pool: WarmPool, now: datetime) -> bool:
    started = record.task_started_at
    return (
        record.status is RunnerStatus.WAITING_FOR_JOB
        and started is not None
        and now - started > timedelta(seconds=pool.max_idle_seconds)
    )


def _retire_first(record: RunnerRecord) -> tuple[int, str]:
    """Runners without a task first (nothing to stop), then the longest idle."""
    return (0 if record.task_arn is None else 1, record.status_since.isoformat())


@dataclass(frozen=True)
class PoolStatus:
    """A pool now: how many warm runners it wants, has alive, and has idle and unclaimed."""

    name: str
    class_name: str
    image: str
    target: int
    live: int
    idle: int
    max_idle_seconds: int

    def as_dict(self) -> dict[str, object]:
        return {
            "pool": self.name,
            "class": self.class_name,
            "image": self.image,
            "target": self.target,
            "live": self.live,
            "idle": self.idle,
            "max_idle_seconds": self.max_idle_seconds,
        }


def pool_statuses(deps: Deps) -> list[PoolStatus]:
    """Every configured pool with its size now (read with the status index, never a Scan)."""
    active = list(deps.store.active())
    now = deps.clock.now()
    statuses = []
    for pool in deps.settings.warm_pools:
        live = members(active, pool.name)
        statuses.append(
            PoolStatus(
                name=pool.name,
                class_name=pool.class_name,
                image=pool_image(deps, pool),
                target=pool.target_size(now),
                live=len(live),
                idle=sum(1 for r in live if r.status is RunnerStatus.WAITING_FOR_JOB),
                max_idle_seconds=pool.max_idle_seconds,
            )
        )
    return statuses
