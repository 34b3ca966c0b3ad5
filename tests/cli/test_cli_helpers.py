"""Small pure parts of the CLI: durations, sizes, tables, streamed JSON."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from ecsrunner.console import Console
from ecsrunner.humanize import parse_duration, short_duration, size_text
from ecsrunner.json_output import dumps, print_json_array
from ecsrunner.tables import render_table


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("2h", 7200),
        ("1d", 86400),
        ("1w", 604800),
        ("1h30m", 5400),
        (" 2H ", 7200),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0s", "2", "h", "1.5h", "-1h", "1h 30m", "1y", "\uff11h"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (-5, "0s"),
        (59, "59s"),
        (61, "1m01s"),
        (3600 + 4 * 60 + 59, "1h04m"),
        (2 * 86400 + 3 * 3600, "2d03h"),
    ],
)
def test_short_duration(seconds: int, text: str) -> None:
    assert short_duration(timedelta(seconds=seconds)) == text


@pytest.mark.parametrize(
    ("size", "text"), [(None, "-"), (0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (3 * 1024**3, "3.0 GiB")]
)
def test_size_text(size: int | None, text: str) -> None:
    assert size_text(size) == text


def test_table_aligns_columns_and_cuts_only_the_last_one_to_the_width() -> None:
    rows = [("a", "RUNNING", "short"), ("longer-name", "FAILED", "x" * 50)]
    lines = render_table(("NAME", "STATUS", "REASON"), rows, width=40)
    assert lines[0] == "NAME         STATUS   REASON"
    assert lines[1] == "a            RUNNING  short"
    assert lines[2].startswith("longer-name  FAILED   xxx")
    assert len(lines[2]) == 40 and lines[2].endswith("…")
    assert render_table(("NAME", "STATUS", "REASON"), rows)[2].endswith("x" * 50)  # no width: in full


def test_table_paint_does_not_change_alignment() -> None:
    lines = render_table(
        ("A", "B"), [("x", "y"), ("long", "z")], paint=lambda c, t: f"<{t}>" if c == 0 else t
    )
    assert lines[1:] == ["<x>     y", "<long>  z"]


@pytest.mark.parametrize("count", [0, 1, 3])
def test_streamed_json_array_is_the_same_text_as_dumping_the_list(count: int) -> None:
    items = [{"n": n, "nested": {"list": [n, None]}, "text": "é"} for n in range(count)]
    out = io.StringIO()
    print_json_array(Console(out, io.StringIO(), {}, io.StringIO()), iter(items))
    assert out.getvalue() == dumps(items) + "\n"
    assert json.loads(out.getvalue()) == items
