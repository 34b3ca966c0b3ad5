"""Paths as the demo, the benchmarks and the docs generators print them: relative to the checkout.

Their output is committed (docs/demo.md, docs/BENCHMARKS.md, docs/cli.md), so it must not carry the
machine's checkout, home or interpreter paths (tests/test_committed_text.py). Interpreters are shown
by what they are: ``.venv/bin/python`` inside the checkout, ``python3.13 (pyenv)``, ``python3.13``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _roots(root: Path) -> list[str]:
    """The checkout as given and as resolved (a symlinked checkout prints either)."""
    return list(dict.fromkeys(str(path) for path in (root, root.resolve())))


def shown_path(path: str | os.PathLike[str], root: Path = REPO_ROOT) -> str:
    """``path`` relative to the checkout when inside it, ``~/...`` under the home directory."""
    text = os.fspath(path)
    for prefix in _roots(root):
        if text == prefix:
            return "."
        if text.startswith(prefix + os.sep):
            return text[len(prefix) + 1 :]
    home = str(Path.home())
    if home not in {"", os.sep} and text.startswith(home + os.sep):
        return "~" + text[len(home) :]
    return text


def shown_interpreter(executable: str | os.PathLike[str], root: Path = REPO_ROOT) -> str:
    """``.venv/bin/python`` in the checkout, ``python3.13 (pyenv)`` from pyenv, else the program name."""
    text = os.fspath(executable)
    relative = shown_path(text, root)
    if not Path(relative).is_absolute() and not relative.startswith("~"):
        return relative
    name = Path(text).name
    return f"{name} (pyenv)" if f"{os.sep}.pyenv{os.sep}" in text else name


def relative_text(text: str, root: Path = REPO_ROOT) -> str:
    """Free text with the checkout prefix removed from every path in it, and the home as ``~``."""
    for prefix in sorted(_roots(root), key=len, reverse=True):
        text = text.replace(prefix + os.sep, "")
    home = str(Path.home())
    if home not in {"", os.sep}:
        text = text.replace(home + os.sep, "~" + os.sep)
    return text
