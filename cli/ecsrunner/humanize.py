"""Values typed by operators (``--since 2h``) and shown to them (``3h04m``, ``1.2 GiB``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_PART = re.compile(r"([0-9]+)([smhdw])", re.ASCII)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``2h``, ``1d``, ``1w`` or combinations such as ``1h30m``."""
    spec = text.strip().lower()
    position, seconds = 0, 0
    while position < len(spec):
        match = _PART.match(spec, position)
        if match is None:
            raise ValueError(f"invalid duration {text!r}: use e.g. 90s, 30m, 2h, 1d or 1h30m")
        seconds += int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not spec or seconds <= 0:
        raise ValueError(f"invalid duration {text!r}: use e.g. 90s, 30m, 2h, 1d or 1h30m")
    return timedelta(seconds=seconds)


def short_duration(delta: timedelta) -> str:
    """The two largest units: ``45s``, ``12m05s``, ``3h04m``, ``2d03h``."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def size_text(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def when_text(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"
