"""The demo's output: plain lines off a terminal, a spinner on one, quiet mode, stage times."""

from __future__ import annotations

import io

import pytest
from ecsrunner_sandbox.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_the_output_is_plain_lines() -> None:
    stream = io.StringIO()
    progress = Progress(stream)
    with progress.stage("Play"), progress.waiting("runners working"):
        progress.event("webhook", "queued job 1 → 200 accepted")
    text = stream.getvalue()
    assert "\033" not in text and "\r" not in text
    assert "▶ Play" in text and "… runners working" in text and "webhook" in text
    assert [s.name for s in progress.stages] == ["Play"] and progress.stages[0].ok


def test_on_a_terminal_a_spinner_is_drawn_and_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream = Terminal()
    progress = Progress(stream)
    drawn = []
    with progress.waiting("terraform apply"):
        for _ in range(200):  # the spinner thread draws within a few frames
            if "terraform apply" in stream.getvalue():
                break
            drawn.append(progress._spinner_stop.wait(0.05))
    text = stream.getvalue()
    assert "terraform apply" in text and text.endswith("\r\033[K")
    assert progress.color


def test_quiet_keeps_stages_and_warnings_only() -> None:
    stream = io.StringIO()
    progress = Progress(stream, quiet=True)
    with progress.stage("Play"):
        progress.event("ecs", "task RUNNING")
        progress.warn("something odd")
    text = stream.getvalue()
    assert "task RUNNING" not in text and "something odd" in text and "Play" in text


def test_a_failing_stage_is_recorded_as_failed() -> None:
    progress = Progress(io.StringIO(), color=False)
    with pytest.raises(RuntimeError), progress.stage("Apply"):
        raise RuntimeError("boom")
    assert not progress.stages[0].ok
