"""Aligned text tables; the last column is cut to the terminal width when there is one."""

from __future__ import annotations

from collections.abc import Callable, Sequence

GAP = "  "
MIN_LAST_COLUMN = 12

Paint = Callable[[int, str], str]


def _plain(column: int, text: str) -> str:
    return text


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, width: int | None = None, paint: Paint = _plain
) -> list[str]:
    """Lines of the table. ``paint(column, text)`` styles a cell after its width is measured."""
    count = len(headers)
    widths = [len(h) for h in headers]
    for row in rows:
        for column, cell in enumerate(row[: count - 1]):
            widths[column] = max(widths[column], len(cell))
    fixed = sum(widths[:-1]) + len(GAP) * (count - 1)
    last_room = max(width - fixed, MIN_LAST_COLUMN) if width else None

    def line(cells: Sequence[str], styled: bool) -> str:
        parts = []
        for column, cell in enumerate(cells):
            if column == count - 1:
                text = _cut(cell, last_room)
                parts.append(paint(column, text) if styled else text)
            else:
                text = paint(column, cell) if styled else cell
                parts.append(text + " " * (widths[column] - len(cell)))
        return GAP.join(parts).rstrip()

    return [line(headers, False), *(line(row, True) for row in rows)]


def _cut(text: str, room: int | None) -> str:
    if room is None or len(text) <= room:
        return text
    return text[: room - 1] + "…"
