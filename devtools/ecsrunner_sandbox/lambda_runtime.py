"""What the Lambda runtime provides: the interpreter of a runtime (``python3.13``) and boto3.

The Lambda zip carries ecsrunner and its non-runtime dependencies, not boto3: AWS's Python runtimes
provide boto3 and botocore. The sandbox plays that part with a "runtime layer" directory holding
the pinned boto3 (and what it needs) copied from the project's environment: all pure Python, so
the same files serve any Python 3 interpreter.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from scripts.runtime_python import OVERRIDE_ENV, locate
from scripts.runtime_python import RuntimeNotFound as LocateError

PYTHON_OVERRIDE_ENV = OVERRIDE_ENV
# What the runtime itself ships besides the standard library (boto3 and its dependencies).
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")


class RuntimeNotFound(RuntimeError):
    """No interpreter for the function's runtime on this machine."""


@dataclass(frozen=True)
class RuntimePython:
    executable: str
    version: str  # e.g. "3.13.0"
    runtime: str  # the function's Runtime, e.g. "python3.13"
    exact: bool  # False when another version stands in (with a warning)

    def describe(self) -> str:
        note = "" if self.exact else f" (standing in for {self.runtime}: install it for a faithful run)"
        return f"Python {self.version} at {self.executable}{note}"


def find_runtime_python(runtime: str, *, allow_fallback: bool = True) -> RuntimePython:
    """The interpreter for ``runtime`` (scripts/runtime_python.py finds it).

    Without one, the current interpreter stands in when ``allow_fallback`` (the caller warns);
    otherwise :class:`RuntimeNotFound` says how to get one.
    """
    try:
        found = locate(runtime)
    except LocateError as exc:
        raise RuntimeNotFound(str(exc)) from None
    if found is not None:
        return RuntimePython(found.executable, found.version, runtime, exact=True)
    if allow_fallback:
        current = ".".join(map(str, sys.version_info[:3]))
        return RuntimePython(sys.executable, current, runtime, exact=False)
    wanted = runtime.removeprefix("python")
    raise RuntimeNotFound(
        f"no Python {wanted} found for the Lambda runtime {runtime}: install it (e.g. `pyenv install "
        f"{wanted}`) or set {PYTHON_OVERRIDE_ENV} to its interpreter"
    )


def _distribution_files(name: str) -> tuple[str, list[tuple[Path, Path]]]:
    """(version, [(source, path relative to site-packages)]) of an installed distribution."""
    dist = metadata.distribution(name)
    pairs: list[tuple[Path, Path]] = []
    for file in dist.files or []:
        relative = Path(str(file))
        if relative.is_absolute() or ".." in relative.parts or relative.suffix == ".pyc":
            continue  # console scripts live outside site-packages; bytecode is rebuilt
        pairs.append((Path(str(dist.locate_file(file))), relative))
    return dist.version, pairs


def runtime_layer(cache_root: Path) -> Path:
    """A directory with the runtime's boto3 (created once under ``cache_root``, then reused)."""
    found = {name: _distribution_files(name) for name in RUNTIME_DISTRIBUTIONS}
    key = "-".join(f"{name}{version}" for name, (version, _) in sorted(found.items()))
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    target = cache_root / f"boto3-{found['boto3'][0]}-{digest}"
    marker = target / ".complete"
    if marker.is_file() and marker.read_text() == key:
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".layer-", dir=cache_root))
    for _, files in found.values():
        for source, relative in files:
            if source.is_file():
                destination = staging / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, destination)
    (staging / ".complete").write_text(key)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return target
