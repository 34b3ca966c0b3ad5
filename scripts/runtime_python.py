"""The CPython of a Lambda runtime (``python3.13``) on this machine, for the build, the sandbox and
the benchmarks: ``$ECSRUNNER_RUNTIME_PYTHON``, else ``python3.X`` on ``PATH``, else pyenv's versions."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

OVERRIDE_ENV = "ECSRUNNER_RUNTIME_PYTHON"
PROBE_TIMEOUT_SECONDS = 20
_RUNTIME_RE = re.compile(r"^python(\d+)\.(\d+)$")


class RuntimeNotFound(RuntimeError):
    """Not a Python runtime, or ``$ECSRUNNER_RUNTIME_PYTHON`` names another interpreter."""


@dataclass(frozen=True)
class Interpreter:
    executable: str
    version: str  # "3.13.0"
    cache_tag: str  # "cpython-313"


def runtime_version(runtime: str) -> tuple[int, int]:
    match = _RUNTIME_RE.match(runtime)
    if match is None:
        raise RuntimeNotFound(f"unsupported runtime {runtime!r}: expected pythonX.Y, e.g. python3.13")
    return int(match.group(1)), int(match.group(2))


def _probe(executable: str) -> Interpreter | None:
    """What ``executable`` is, if it runs (a pyenv shim of an unselected version does not)."""
    script = "import sys; print('.'.join(map(str, sys.version_info[:3])), sys.implementation.cache_tag)"
    try:
        completed = subprocess.run(
            [executable, "-S", "-c", script],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = completed.stdout.split()
    return (
        Interpreter(executable, parts[0], parts[1]) if completed.returncode == 0 and len(parts) == 2 else None
    )


def _pyenv_candidates(major: int, minor: int) -> list[str]:
    root = os.environ.get("PYENV_ROOT")
    pyenv = shutil.which("pyenv")
    if not root and pyenv:
        try:
            root = subprocess.run(
                [pyenv, "root"], capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS, check=False
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            root = None
    base = Path(root) if root else Path.home() / ".pyenv"
    versions = sorted(base.glob(f"versions/{major}.{minor}.*"), reverse=True)
    return [str(version / "bin" / f"python{major}.{minor}") for version in versions]


def locate(runtime: str) -> Interpreter | None:
    """The interpreter of ``runtime``, or None; a wrong ``$ECSRUNNER_RUNTIME_PYTHON`` is an error."""
    major, minor = runtime_version(runtime)
    wanted = f"cpython-{major}{minor}"
    override = os.environ.get(OVERRIDE_ENV)
    candidates = [override] if override else []
    on_path = shutil.which(f"python{major}.{minor}")
    candidates += [on_path] if on_path else []
    candidates += _pyenv_candidates(major, minor)
    for candidate in candidates:
        found = _probe(candidate)
        if found is not None and found.cache_tag == wanted:
            return found
        if candidate == override:
            raise RuntimeNotFound(f"{OVERRIDE_ENV}={override} is not a CPython {major}.{minor} interpreter")
    return None
