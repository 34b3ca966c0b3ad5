"""What the numbers were measured on: the machine, the interpreters and the emulator versions."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from ecsrunner_sandbox.portable_paths import shown_interpreter

from scripts.runtime_python import locate

DEFAULT_RUNTIME = "python3.13"


@dataclass(frozen=True)
class Machine:
    date: str
    cpu_model: str
    cores: int
    memory_gib: float
    load_average: str
    os: str
    python: str
    runtime_python: str
    versions: dict[str, str]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def runtime_python(runtime: str = DEFAULT_RUNTIME) -> Path | None:
    """An interpreter for the Lambda runtime (``python3.13``), found as the build finds it."""
    found = locate(runtime)
    return Path(found.executable) if found is not None else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def _version_of(python: Path | None) -> str:
    if python is None:
        return "not found"
    result = subprocess.run(
        [str(python), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=False,
    )
    return f"{result.stdout.strip() or 'unknown'}, {shown_interpreter(python)}"


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe_machine(runtime: str = DEFAULT_RUNTIME) -> Machine:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return Machine(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cpu_model=_cpu_model(),
        cores=os.cpu_count() or 0,
        memory_gib=_memory_gib(),
        load_average=" ".join(f"{value:.2f}" for value in load),
        os=f"{platform.system()} {platform.release()}",
        python=f"{platform.python_version()}, {shown_interpreter(sys.executable)}",
        runtime_python=_version_of(runtime_python(runtime)),
        versions={
            name: _package_version(name)
            for name in ("moto", "boto3", "botocore", "requests", "aws-lambda-powertools", "matplotlib")
        },
    )
