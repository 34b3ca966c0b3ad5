"""Warm pools: idle JIT runners kept ready per class (and image), sized by schedule.

The pools are the Terraform variable ``warm_pools`` as JSON (the ``WARM_POOLS`` setting). A pool's
size at a moment is the size of the schedule entry that fired last before it (cron expressions in
the entry's time zone), or the pool's ``size`` when no entry fired in the week before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .image_ref import ImageReferenceError, parse_image_reference

POOL_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
MAX_POOL_SIZE = 100
DEFAULT_MAX_IDLE_SECONDS = 4 * 3600
MIN_MAX_IDLE_SECONDS = 300
LOOKBACK_DAYS = 8

_DAY_NAMES = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}


class PoolError(ValueError):
    """The warm pool definition is invalid; the message names the pool and the field."""


@dataclass(frozen=True)
class Cron:
    """A five-field cron expression: minute hour day-of-month month day-of-week (0 or 7 = Sunday).

    As in cron, when both day fields are restricted a day matches if either does.
    """

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        fields = text.split()
        if len(fields) != 5:
            raise ValueError(f"cron {text!r} must have 5 fields: minute hour day-of-month month day-of-week")
        minute, hour, day, month, weekday = fields
        weekdays = frozenset(d % 7 for d in _field(weekday, 0, 7, _DAY_NAMES, text))
        return cls(
            text=text,
            minutes=_field(minute, 0, 59, {}, text),
            hours=_field(hour, 0, 23, {}, text),
            days=_field(day, 1, 31, {}, text),
            months=_field(month, 1, 12, _MONTH_NAMES, text),
            weekdays=weekdays,
            any_day=day == "*",
            any_weekday=weekday == "*",
        )

    def day_matches(self, day: datetime) -> bool:
        if day.month not in self.months:
            return False
        by_date = day.day in self.days
        by_weekday = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return by_date and by_weekday
        return by_date or by_weekday

    def last_fired(self, now: datetime, zone: ZoneInfo) -> datetime | None:
        """The latest minute at or before ``now`` that the expression matches (within 8 days)."""
        local = now.astimezone(zone).replace(second=0, microsecond=0)
        for back in range(LOOKBACK_DAYS + 1):
            day = local - timedelta(days=back)
            if not self.day_matches(day):
                continue
            for hour in sorted(self.hours, reverse=True):
                for minute in sorted(self.minutes, reverse=True):
                    candidate = day.replace(hour=hour, minute=minute)
                    if candidate <= local:
                        return candidate
        return None


def _field(text: str, low: int, high: int, names: Mapping[str, int], expression: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = _number(step_text, names, expression) if step_text else 1
        if step < 1:
            raise ValueError(f"cron {expression!r}: step must be at least 1")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(first, names, expression), _number(last, names, expression)
        else:
            start = _number(base, names, expression)
            end = high if step_text else start
        if not low <= start <= end <= high:
            raise ValueError(f"cron {expression!r}: {part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _number(text: str, names: Mapping[str, int], expression: str) -> int:
    named = names.get(text.upper())
    if named is not None:
        return named
    if not text.isdigit():
        raise ValueError(f"cron {expression!r}: {text!r} is not a number")
    return int(text)


@dataclass(frozen=True)
class PoolSchedule:
    cron: Cron
    size: int
    timezone: str = "UTC"


@dataclass(frozen=True)
class WarmPool:
    name: str
    class_name: str
    size: int
    image: str | None = None  # canonical reference; None: the deployment's default image
    schedules: tuple[PoolSchedule, ...] = ()
    max_idle_seconds: int = DEFAULT_MAX_IDLE_SECONDS
    labels: tuple[str, ...] = field(default=())

    def target_size(self, now: datetime) -> int:
        """The size wanted at ``now``: the schedule entry that fired last, else ``size``."""
        latest: tuple[datetime, int] | None = None
        for schedule in self.schedules:
            fired = schedule.cron.last_fired(now, ZoneInfo(schedule.timezone))
            if fired is not None and (latest is None or fired > latest[0]):
                latest = (fired, schedule.size)
        return latest[1] if latest is not None else self.size

    def covers(self, job_labels: Iterable[object]) -> bool:
        """GitHub's rule: a runner takes a job whose every label it has (case-insensitive)."""
        own = {label.lower() for label in self.labels}
        return all(str(label).lower() in own for label in job_labels)


def pool_labels(
    class_name: str, architecture_label: str, image_label: str | None, extra: Iterable[str]
) -> tuple[str, ...]:
    """The labels a warm runner registers with: every label a job it should take may carry
    (``self-hosted``, ``linux``, its architecture, its class, its image when the pool has one, and
    the fleet's extra labels). A job without ``class:`` runs on the default class, so a pool of the
    default class covers it by these labels too."""
    labels = ["self-hosted", "linux", architecture_label, f"class:{class_name}"]
    if image_label:
        labels.append(f"image:{image_label}")
    labels.extend(sorted(set(extra) - set(labels)))
    return tuple(labels)


def pools_to_json(pools: Iterable[WarmPool]) -> str:
    """The ``WARM_POOLS`` text :func:`pools_from_json` reads back."""
    document = {
        pool.name: {
            "class": pool.class_name,
            "size": pool.size,
            "image": pool.image,
            "schedules": [
                {"cron": entry.cron.text, "size": entry.size, "timezone": entry.timezone}
                for entry in pool.schedules
            ],
            "max_idle_seconds": pool.max_idle_seconds,
        }
        for pool in pools
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def pools_from_json(text: str) -> tuple[WarmPool, ...]:
    """Parse ``WARM_POOLS``: ``{"name": {"class": "medium", "size": 2, "image": null,
    "schedules": [{"cron": "0 8 * * 1-5", "size": 2, "timezone": "Europe/Paris"}],
    "max_idle_seconds": 14400}}``. Raises :class:`PoolError` naming the pool and field."""
    if not text.strip():
        return ()
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise PoolError(f"warm pools are not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PoolError("warm pools must be a JSON object keyed by pool name")
    return tuple(_pool(name, spec) for name, spec in sorted(document.items()))


def _pool(name: object, spec: object) -> WarmPool:
    if not isinstance(name, str) or not POOL_NAME_RE.fullmatch(name):
        raise PoolError(f"warm pool name {name!r} must be 1-32 lowercase letters, digits, '-' or '_'")
    if not isinstance(spec, dict):
        raise PoolError(f"warm pool {name!r} must be an object")
    class_name = spec.get("class")
    if not isinstance(class_name, str) or not class_name:
        raise PoolError(f"warm pool {name!r}: class is required")
    size = _size(name, "size", spec.get("size"))
    image = spec.get("image")
    if image is not None:
        if not isinstance(image, str):
            raise PoolError(f"warm pool {name!r}: image must be a string")
        try:
            image = parse_image_reference(image).canonical
        except ImageReferenceError as exc:
            raise PoolError(f"warm pool {name!r}: image: {exc}") from None
    max_idle = spec.get("max_idle_seconds", DEFAULT_MAX_IDLE_SECONDS)
    if not isinstance(max_idle, int) or isinstance(max_idle, bool) or max_idle < MIN_MAX_IDLE_SECONDS:
        raise PoolError(f"warm pool {name!r}: max_idle_seconds must be an integer >= {MIN_MAX_IDLE_SECONDS}")
    schedules = tuple(
        _schedule(name, index, entry) for index, entry in enumerate(spec.get("schedules") or ())
    )
    return WarmPool(name, class_name, size, image, schedules, max_idle)


def _schedule(pool: str, index: int, entry: object) -> PoolSchedule:
    where = f"warm pool {pool!r}: schedules[{index}]"
    if not isinstance(entry, dict):
        raise PoolError(f"{where} must be an object with cron and size")
    cron_text = entry.get("cron")
    if not isinstance(cron_text, str):
        raise PoolError(f"{where}: cron is required")
    try:
        cron = Cron.parse(cron_text)
    except ValueError as exc:
        raise PoolError(f"{where}: {exc}") from None
    timezone = entry.get("timezone") or "UTC"
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise PoolError(f"{where}: unknown time zone {timezone!r}") from None
    return PoolSchedule(cron, _size(pool, f"schedules[{index}].size", entry.get("size")), str(timezone))


def _size(pool: str, name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_POOL_SIZE:
        raise PoolError(f"warm pool {pool!r}: {name} must be an integer from 0 to {MAX_POOL_SIZE}")
    return value
