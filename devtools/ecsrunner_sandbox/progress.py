"""The demo's live output: stage headers, one line per event, a spinner while waiting.

On a terminal: colours (unless ``--no-color`` or ``NO_COLOR``) and a spinner line that is redrawn
in place. Elsewhere (CI, a pipe): plain lines only, no control characters. ``quiet`` keeps the
stage lines, warnings and errors, and drops the per-event lines. Paths in the checkout print
relative to it (``build/demo/logs``): the output is pasted into committed docs (docs/demo.md).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

from .portable_paths import relative_text

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
SPINNER_INTERVAL_SECONDS = 0.1
KIND_WIDTH = 9
COLORS = {
    "bold": "\033[1m",
    "dim": "\033[2m",
    "red": "\033[31m",
    "green": "\033[32m",
    "yellow": "\033[33m",
    "cyan": "\033[36m",
    "reset": "\033[0m",
}


@dataclass
class StageTime:
    name: str
    seconds: float
    ok: bool


class StageFailed(RuntimeError):
    """A stage failed; the message says what to do."""


class Progress:
    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        color: bool | None = None,
        quiet: bool = False,
        interactive: bool | None = None,
    ) -> None:
        self.stream = stream or sys.stdout
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interactive = tty if interactive is None else interactive
        self.color = (tty and not os.environ.get("NO_COLOR")) if color is None else color
        self.quiet = quiet
        self.started = time.monotonic()
        self.stages: list[StageTime] = []
        self.warnings: list[str] = []
        self._lock = threading.RLock()
        self._spinner_text: str | None = None
        self._spinner_started = 0.0
        self._spinner_stop = threading.Event()
        self._spinner_thread: threading.Thread | None = None

    # --- formatting ---------------------------------------------------------------------------

    def paint(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        return "".join(COLORS[s] for s in styles) + text + COLORS["reset"]

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _write(self, line: str) -> None:
        line = relative_text(line)
        with self._lock:
            if self._spinner_text is not None and self.interactive:
                self.stream.write("\r\033[K")
            self.stream.write(line + "\n")
            self.stream.flush()

    # --- lines --------------------------------------------------------------------------------

    def line(self, text: str = "") -> None:
        self._write(text)

    def event(self, kind: str, text: str) -> None:
        if self.quiet:
            return
        stamp = self.paint(f"{self.elapsed():7.1f}s", "dim")
        self._write(f"  {stamp}  {self.paint(kind.ljust(KIND_WIDTH), 'cyan')} {text}")

    def note(self, text: str) -> None:
        if not self.quiet:
            self._write(f"            {text}")

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        self._write(self.paint(f"  ! {text}", "yellow"))

    def error(self, text: str) -> None:
        self._write(self.paint(f"  ✗ {text}", "red"))

    # --- stages -------------------------------------------------------------------------------

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._write(self.paint(f"▶ {name}", "bold"))
        began = time.monotonic()
        ok = False
        try:
            yield
            ok = True
        finally:
            seconds = time.monotonic() - began
            self.stages.append(StageTime(name, seconds, ok))
            mark = self.paint("✓", "green") if ok else self.paint("✗", "red")
            self._write(f"  {mark} {name} ({seconds:.1f}s)")

    # --- waiting ------------------------------------------------------------------------------

    @contextmanager
    def waiting(self, text: str) -> Iterator[None]:
        """A spinner with the elapsed time on a terminal; one plain line otherwise."""
        if not self.interactive:
            if not self.quiet:
                self._write(f"            … {text}")
            yield
            return
        with self._lock:
            self._spinner_text, self._spinner_started = text, time.monotonic()
            self._spinner_stop.clear()
            self._spinner_thread = threading.Thread(target=self._spin, name="spinner", daemon=True)
            self._spinner_thread.start()
        try:
            yield
        finally:
            self._spinner_stop.set()
            if self._spinner_thread is not None:
                self._spinner_thread.join(timeout=2)
            with self._lock:
                self._spinner_text = None
                self.stream.write("\r\033[K")
                self.stream.flush()

    def _spin(self) -> None:
        frame = 0
        while not self._spinner_stop.wait(SPINNER_INTERVAL_SECONDS):
            with self._lock:
                if self._spinner_text is None:
                    return
                seconds = time.monotonic() - self._spinner_started
                glyph = self.paint(SPINNER[frame % len(SPINNER)], "cyan")
                self.stream.write(f"\r\033[K  {glyph} {self._spinner_text} ({seconds:.0f}s)")
                self.stream.flush()
            frame += 1
