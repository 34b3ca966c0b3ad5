"""Fleet statistics over runner records: jobs, queued -> running latency, failures, minutes and cost.

Pure functions of the records, the class sizes and a price table; the caller reads the records (the
CLI queries the status index per status, never a Scan).

* **Latency** of a runner: from ``created_at`` (its queued webhook accepted) to its first ``RUNNING``
  history entry (GitHub says the job started on it). Runners that never ran a job are left out.
* **Runner minutes**: from the first ``WAITING_FOR_JOB`` or ``RUNNING`` entry (the task is running)
  to the terminal entry, or to ``now`` for a runner still active.
* **Cost**: minutes x the Fargate price of the runner's class (vCPU-hours + GB-hours, ephemeral storage
  above 20 GiB, the Spot discount for ``spot`` classes), each task billed at least one minute. Fargate
  also bills the image pull before the task runs, which the records do not time, so this is a lower
  bound. Runners whose class is no longer defined count as unpriced minutes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.classes import Architecture, ClassSize
from ..domain.runner import RunnerRecord
from ..domain.status import RunnerStatus
from ..views import iso
from .records import failure_kind

UNKNOWN_CLASS = "-"
FARGATE_MINIMUM_MINUTES = 1.0
FARGATE_FREE_STORAGE_GIB = 20
_RUNNING_TASK = frozenset({RunnerStatus.WAITING_FOR_JOB, RunnerStatus.RUNNING})


@dataclass(frozen=True)
class FargatePrices:
    """Fargate Linux list prices in USD, us-east-1, read 2026-11-23 (https://aws.amazon.com/fargate/pricing/;
    the same figures as ``bench/prices.py``). Prices differ by region and change: override them."""

    vcpu_hour: float = 0.04048
    gb_hour: float = 0.004445
    arm_vcpu_hour: float = 0.03238
    arm_gb_hour: float = 0.00356
    storage_gb_hour: float = 0.000111
    spot_discount: float = 0.70
    region: str = "us-east-1"
    read_on: str = "2026-11-23"

    def per_minute(self, size: ClassSize) -> float:
        arm = size.architecture is Architecture.ARM64
        vcpu_hour, gb_hour = (self.arm_vcpu_hour, self.arm_gb_hour) if arm else (self.vcpu_hour, self.gb_hour)
        hourly = size.cpu / 1024 * vcpu_hour + size.memory / 1024 * gb_hour
        if size.spot:
            hourly *= 1 - self.spot_discount
        extra_storage = max((size.ephemeral_storage_gib or 0) - FARGATE_FREE_STORAGE_GIB, 0)
        return (hourly + extra_storage * self.storage_gb_hour) / 60

    def to_json(self) -> dict[str, Any]:
        return {
            "vcpu_hour": self.vcpu_hour,
            "gb_hour": self.gb_hour,
            "arm_vcpu_hour": self.arm_vcpu_hour,
            "arm_gb_hour": self.arm_gb_hour,
            "storage_gb_hour": self.storage_gb_hour,
            "spot_discount": self.spot_discount,
            "region": self.region,
            "read_on": self.read_on,
        }


DEFAULT_PRICES = FargatePrices()


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``fraction`` of the values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


def start_latency_seconds(record: RunnerRecord) -> float | None:
    """Seconds from the accepted queued webhook to the job running on this runner, if it ever did."""
    started = next((h.at for h in record.history if h.status is RunnerStatus.RUNNING), None)
    return (started - record.created_at).total_seconds() if started is not None else None


def runner_minutes(record: RunnerRecord, now: datetime) -> float | None:
    """Minutes the task ran (WAITING_FOR_JOB or RUNNING until the end, or now); None if it never ran."""
    began = next((h.at for h in record.history if h.status in _RUNNING_TASK), None)
    if began is None:
        return None
    ended = next((h.at for h in record.history if h.status.terminal), None) if record.terminal else None
    return max(((ended or now) - began).total_seconds(), 0.0) / 60


@dataclass
class UsageLine:
    """Runners, minutes and cost of one repository or one class; ``cost`` None = unpriced minutes."""

    name: str
    runners: int = 0
    minutes: float = 0.0
    cost_usd: float = 0.0
    unpriced_minutes: float = 0.0

    def add(self, minutes: float, cost: float | None) -> None:
        self.runners += 1
        self.minutes += minutes
        if cost is None:
            self.unpriced_minutes += minutes
        else:
            self.cost_usd += cost


@dataclass
class FleetStats:
    since: datetime
    until: datetime
    runners: int = 0
    jobs: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    minutes: float = 0.0
    cost_usd: float = 0.0
    unpriced_minutes: float = 0.0
    by_repository: dict[str, UsageLine] = field(default_factory=dict)
    by_class: dict[str, UsageLine] = field(default_factory=dict)
    class_sizes: dict[str, ClassSize] = field(default_factory=dict)
    prices: FargatePrices = DEFAULT_PRICES

    def latency(self, fraction: float) -> float | None:
        return percentile(self.latencies, fraction)

    def to_json(self) -> dict[str, Any]:
        """The ``runners stats --json`` document (stable keys; docs/cli.md)."""
        return {
            "since": iso(self.since),
            "until": iso(self.until),
            "jobs": self.jobs,
            "runners": self.runners,
            "by_status": {status.value: self.by_status.get(status.value, 0) for status in RunnerStatus},
            "queued_to_running_seconds": {
                "count": len(self.latencies),
                "p50": _round(self.latency(0.5)),
                "p90": _round(self.latency(0.9)),
            },
            "failures": {
                "total": sum(self.failures.values()),
                "by_kind": dict(sorted(self.failures.items())),
            },
            "runner_minutes": round(self.minutes, 2),
            "unpriced_minutes": round(self.unpriced_minutes, 2),
            "estimated_cost_usd": round(self.cost_usd, 4),
            "by_repository": [_usage_json(line, "repository") for line in _ordered(self.by_repository)],
            "by_class": [self._class_json(line) for line in _ordered(self.by_class)],
            "prices": self.prices.to_json(),
        }

    def _class_json(self, line: UsageLine) -> dict[str, Any]:
        size = self.class_sizes.get(line.name)
        return {
            **_usage_json(line, "class"),
            "estimated_cost_usd": round(line.cost_usd, 4) if size else None,
            "cpu": size.cpu if size else None,
            "memory": size.memory if size else None,
            "spot": size.spot if size else None,
            "architecture": size.architecture.value if size else None,
        }


def fleet_stats(
    records: Iterable[RunnerRecord],
    *,
    sizes: Mapping[str, ClassSize],
    since: datetime,
    now: datetime,
    prices: FargatePrices = DEFAULT_PRICES,
) -> FleetStats:
    """Statistics of ``records`` (runners created in ``[since, now]``), priced with ``sizes``."""
    stats = FleetStats(since=since, until=now, prices=prices)
    jobs: set[int] = set()
    for record in records:
        stats.runners += 1
        if record.job_id:  # an idle warm runner has no job yet
            jobs.add(record.job_id)
        stats.by_status[record.status.value] += 1
        latency = start_latency_seconds(record)
        if latency is not None:
            stats.latencies.append(latency)
        if record.status is RunnerStatus.FAILED:
            stats.failures[failure_kind(record.status_reason)] += 1
        _add_usage(stats, record, sizes, now)
    stats.jobs = len(jobs)
    return stats


def _add_usage(
    stats: FleetStats, record: RunnerRecord, sizes: Mapping[str, ClassSize], now: datetime
) -> None:
    minutes = runner_minutes(record, now)
    if minutes is None:
        return
    class_name = record.class_name or UNKNOWN_CLASS
    size = sizes.get(class_name)
    cost = None
    if size is None:
        stats.unpriced_minutes += minutes
    else:
        stats.class_sizes[class_name] = size
        cost = max(minutes, FARGATE_MINIMUM_MINUTES) * stats.prices.per_minute(size)
        stats.cost_usd += cost
    stats.minutes += minutes
    repository = record.run_job_repository or record.repository
    stats.by_repository.setdefault(repository, UsageLine(repository)).add(minutes, cost)
    stats.by_class.setdefault(class_name, UsageLine(class_name)).add(minutes, cost)


def _ordered(lines: Mapping[str, UsageLine]) -> list[UsageLine]:
    """Most minutes first, then by name: the lines that cost the most lead."""
    return sorted(lines.values(), key=lambda line: (-line.minutes, line.name))


def _usage_json(line: UsageLine, key: str) -> dict[str, Any]:
    return {
        key: line.name,
        "runners": line.runners,
        "runner_minutes": round(line.minutes, 2),
        "unpriced_minutes": round(line.unpriced_minutes, 2),
        "estimated_cost_usd": round(line.cost_usd, 4),
    }


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
