"""Markdown building blocks for docs/BENCHMARKS.md."""

from __future__ import annotations

from collections.abc import Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured table; numbers are right-aligned."""
    texts = [[_cell(value) for value in row] for row in rows]
    numeric = [all(_is_number(row[i]) for row in rows) if rows else False for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---:" if numeric[i] else "---" for i in range(len(headers))) + "|")
    lines.extend("| " + " | ".join(row) + " |" for row in texts)
    return "\n".join(lines)


def command(text: str) -> str:
    return f"Command: `{text}`"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def money(dollars: float) -> str:
    if dollars == 0:
        return "$0"
    if abs(dollars) < 0.01:
        return f"${dollars:.6f}"
    return f"${dollars:,.4f}"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value).replace("|", "\\|").replace("\n", " ")
