"""Generated text shows paths relative to the checkout and interpreters by name (committed docs)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from ecsrunner_sandbox.portable_paths import REPO_ROOT, relative_text, shown_interpreter, shown_path
from ecsrunner_sandbox.progress import Progress

from bench.cold_start import _body
from bench.machine import describe_machine
from tests.test_committed_text import machine_paths

ROOT = Path("/srv/checkouts/ecsrunner")


def test_shown_path() -> None:
    assert shown_path(ROOT / "build" / "demo" / "logs", ROOT) == "build/demo/logs"
    assert shown_path(ROOT, ROOT) == "."
    assert shown_path("/srv/checkouts/ecsrunner-other/x", ROOT) == "/srv/checkouts/ecsrunner-other/x"
    assert shown_path(Path.home() / ".cache" / "x", ROOT) == "~/.cache/x"


@pytest.mark.parametrize(
    ("executable", "shown"),
    [
        (ROOT / ".venv" / "bin" / "python", ".venv/bin/python"),
        (Path.home() / ".pyenv" / "versions" / "3.13.0" / "bin" / "python3.13", "python3.13 (pyenv)"),
        (Path("/opt/pyenv") / ".pyenv" / "versions" / "3.13.0" / "bin" / "python3.13", "python3.13 (pyenv)"),
        (Path("/usr/local/bin") / "python3.11", "python3.11"),
    ],
)
def test_shown_interpreter(executable, shown) -> None:
    assert shown_interpreter(executable, ROOT) == shown


def test_relative_text() -> None:
    text = f"moto server (log: {ROOT}/build/demo/logs/moto-1.log); applied in {ROOT}/build/demo/terraform"
    assert relative_text(text, ROOT) == (
        "moto server (log: build/demo/logs/moto-1.log); applied in build/demo/terraform"
    )


def test_progress_lines_are_relative_to_the_checkout() -> None:
    stream = io.StringIO()
    progress = Progress(stream, color=False)
    progress.note(f"applied in {REPO_ROOT / 'build' / 'demo' / 'terraform'}")
    progress.line(f"logs: {REPO_ROOT / 'build' / 'demo' / 'logs'}")
    assert stream.getvalue().splitlines() == [
        "            applied in build/demo/terraform",
        "logs: build/demo/logs",
    ]


def test_the_benchmarks_machine_block_names_no_machine_path() -> None:
    machine = describe_machine()
    assert not machine_paths("docs/BENCHMARKS.md", f"| {machine.python} | {machine.runtime_python} |")
    assert Path(sys.executable).name in machine.python


def test_the_cold_start_text_names_the_interpreter_only() -> None:
    pyenv_python = Path.home() / ".pyenv" / "versions" / "3.13.0" / "bin" / "python3.13"

    class Quick:
        quick = True

    data = {"rows": [], "repeats": 7}
    text = _body(Quick(), data, pyenv_python)  # type: ignore[arg-type]
    assert 'Each row: `python3.13 -X importtime -c "import MODULE"` in 7' in text
    assert not machine_paths("docs/BENCHMARKS.md", text)
