"""Where output goes, and how it looks: colour and width only on a terminal."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from typing import TextIO

_STYLES = {
    "green": "32",
    "red": "31",
    "yellow": "33",
    "cyan": "36",
    "dim": "2",
    "bold": "1",
}


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Console:
    def __init__(self, out: TextIO, err: TextIO, environ: Mapping[str, str], stdin: TextIO) -> None:
        self.out = out
        self.err = err
        self.stdin = stdin
        self.tty = _isatty(out)
        self.err_tty = _isatty(err)
        self.colour = self.tty and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"
        self.width: int | None = shutil.get_terminal_size().columns if self.tty else None

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        """Progress and hints for the operator: stderr, so that stdout stays parseable."""
        print(text, file=self.err, flush=True)

    def error(self, text: str) -> None:
        print(f"error: {text}", file=self.err, flush=True)

    def paint(self, text: str, style: str | None) -> str:
        if not self.colour or not style or not text:
            return text
        return f"\033[{_STYLES[style]}m{text}\033[0m"

    def confirm(self, question: str) -> bool | None:
        """The operator's answer, or None when there is no terminal to ask on."""
        if not _isatty(self.stdin):
            return None
        print(f"{question} [y/N] ", end="", file=self.err, flush=True)
        answer = self.stdin.readline()
        return answer.strip().lower() in {"y", "yes"}
