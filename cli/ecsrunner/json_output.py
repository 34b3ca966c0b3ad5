"""JSON on stdout: stable key order, dates and numbers serialised, arrays streamed item by item."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .console import Console

INDENT = 2


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    return json.dumps(value, indent=INDENT, default=_default, ensure_ascii=False)


def print_json(console: Console, value: Any) -> None:
    console.line(dumps(value))


def print_json_array(console: Console, items: Iterable[Any]) -> None:
    """The same text as ``dumps(list(items))``, written as the items arrive (pages of a big table)."""
    pad = " " * INDENT
    first = True
    for item in items:
        text = "\n".join(pad + line for line in dumps(item).splitlines())
        console.out.write(("[\n" if first else ",\n") + text)
        first = False
    console.out.write("[]\n" if first else "\n]\n")
    console.out.flush()
