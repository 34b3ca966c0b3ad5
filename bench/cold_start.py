"""4. Cold start: import time of each handler module under the Lambda runtime's Python.

``python3.13 -X importtime -c "import MODULE"`` with ``PYTHONPATH`` = the unzipped ``dist/lambda.zip``
followed by a boto3 "runtime layer" (boto3 is provided by the Lambda runtime; here the pinned,
pure-Python boto3/botocore/s3transfer/jmespath/dateutil/six/urllib3 are copied from the project venv).
Lambda's ``/var/task`` is read-only, so nothing is written at import (``PYTHONDONTWRITEBYTECODE``): a zip
without ``.pyc`` files compiles every module it imports on every cold start. ``scripts/build_artifacts.py``
compiles them ahead when the runtime's Python is available; the zip is measured as shipped and, for
comparison, the other way round (its ``.pyc`` removed, or compiled ahead if it ships none). The boto3
layer keeps its bytecode (the runtime's boto3 is installed with it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .machine import runtime_python
from .markdown import command, table
from .report import Context, Section

NAME = "cold-start"
TITLE = "Cold start"
ROOT = Path(__file__).resolve().parent.parent
ZIP = ROOT / "dist" / "lambda.zip"
MANIFEST = ROOT / "dist" / "manifest.json"
CACHE = ROOT / "build" / "bench"
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
MODULES = {
    "control plane handler": "ecsrunner_lambda.control_plane",
    "janitor handler": "ecsrunner_lambda.janitor",
}
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


@dataclass(frozen=True)
class ImportLine:
    self_us: int
    cumulative_us: int
    depth: int
    module: str


def parse_importtime(stderr: str) -> list[ImportLine]:
    lines = []
    for text in stderr.splitlines():
        match = _LINE.match(text)
        if match:
            self_us, cumulative, indent, module = match.groups()
            lines.append(ImportLine(int(self_us), int(cumulative), (len(indent) - 1) // 2, module))
    return lines


def import_microseconds(lines: list[ImportLine], module: str) -> int:
    """Cumulative time of ``import module``: the top-level entries of the module and its parent packages."""
    wanted = {".".join(module.split(".")[: i + 1]) for i in range(module.count(".") + 1)}
    return sum(line.cumulative_us for line in lines if line.depth == 0 and line.module in wanted)


def heaviest_children(lines: list[ImportLine], module: str, count: int = 5) -> list[tuple[str, int]]:
    """The direct imports of ``module`` that cost the most (cumulative), from one importtime trace."""
    children: list[tuple[str, int]] = []
    for index, line in enumerate(lines):
        if line.depth == 0 and line.module == module:
            # importtime prints children before their parent; walk back over this entry's subtree.
            j = index - 1
            while j >= 0 and lines[j].depth >= 1:
                if lines[j].depth == 1:
                    children.append((lines[j].module, lines[j].cumulative_us))
                j -= 1
    return sorted(children, key=lambda item: item[1], reverse=True)[:count]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _unzipped(zip_path: Path, variant: str, python: Path) -> Path:
    """The zip extracted: as shipped, without its ``.pyc`` ("source"), or compiled ahead ("compiled")."""
    digest = _digest(zip_path)
    target = CACHE / f"lambda-zip-{digest}-{variant}"
    for stale in CACHE.glob("lambda-zip-*"):
        if not stale.name.startswith(f"lambda-zip-{digest}-"):
            shutil.rmtree(stale, ignore_errors=True)  # an older build
    if not target.exists():
        staging = target.with_name(target.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        with zipfile.ZipFile(zip_path) as archive:
            members = [
                name for name in archive.namelist() if variant != "source" or "__pycache__" not in name
            ]
            archive.extractall(staging, members)
        if variant == "compiled":
            subprocess.run(
                [
                    str(python),
                    "-m",
                    "compileall",
                    "-q",
                    "--invalidation-mode",
                    "unchecked-hash",
                    str(staging),
                ],
                check=True,
            )
        staging.rename(target)
    return target


def _boto3_layer(python: Path) -> Path:
    versions = []
    for name in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, name
        versions.append(f"{name}={spec.origin}")
    key = hashlib.sha256("\n".join(versions).encode()).hexdigest()[:16]
    target = CACHE / f"boto3-layer-{key}"
    if not target.exists():
        staging = target.with_name(target.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in RUNTIME_PROVIDED:
            spec = importlib.util.find_spec(name)
            assert spec is not None and spec.origin
            origin = Path(spec.origin)
            if origin.name == "__init__.py":
                shutil.copytree(origin.parent, staging / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(origin, staging / origin.name)
        subprocess.run([str(python), "-m", "compileall", "-q", str(staging)], check=True)
        staging.rename(target)
    return target


def _import_once(python: Path, module: str, path: list[Path]) -> tuple[int, list[ImportLine]]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(p) for p in path),
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only on Lambda
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [str(python), "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"import {module} failed under {python}:\n{result.stderr[-2000:]}")
    lines = parse_importtime(result.stderr)
    return import_microseconds(lines, module), lines


def _zip_facts() -> dict[str, Any]:
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    entry = manifest.get("lambda.zip", {})
    with zipfile.ZipFile(ZIP) as archive:
        infos = archive.infolist()
    by_top: dict[str, int] = {}
    for info in infos:
        top = info.filename.split("/", 1)[0]
        by_top[top] = by_top.get(top, 0) + info.file_size
    return {
        "zip_bytes": ZIP.stat().st_size,
        "manifest_size": entry.get("size"),
        "runtime": entry.get("runtime"),
        "arch": entry.get("arch"),
        "unzipped_bytes": sum(info.file_size for info in infos),
        "files": len(infos),
        "pyc_files": sum(1 for info in infos if info.filename.endswith(".pyc")),
        "py_files": sum(1 for info in infos if info.filename.endswith(".py")),
        "bytecode": entry.get("bytecode"),
        "largest": sorted(by_top.items(), key=lambda item: item[1], reverse=True)[:6],
    }


def run(ctx: Context) -> Section:
    repeats = ctx.size(7, 1)
    python = runtime_python()
    data: dict[str, Any] = {"runtime_python": str(python) if python else None, "repeats": repeats, "rows": []}
    if python is None:
        data["skipped"] = "no python3.13 interpreter found"
        return Section(NAME, TITLE, "Skipped: no `python3.13` interpreter was found on this machine.", data)
    layer = _boto3_layer(python)
    runs: list[tuple[str, str, str, list[Path]]] = [
        ("import boto3 (the runtime's, alone)", "layer", "runtime layer only", [layer])
    ]
    if ZIP.exists():
        data["zip"] = facts = _zip_facts()
        shipped = [_unzipped(ZIP, "shipped", python), layer]
        runs.append(
            (
                "import boto3 as the handler sees it",
                "shipped",
                "zip as shipped, then the runtime layer",
                shipped,
            )
        )
        if facts["pyc_files"]:
            label = f"zip as shipped (with .pyc, {facts['bytecode'] or 'bytecode'}), then the runtime layer"
            other = ("source", "zip without its .pyc (sources only), then the runtime layer")
        else:
            label = "zip as shipped (no .pyc), then the runtime layer"
            other = ("compiled", "zip with .pyc compiled ahead, then the runtime layer")
        compared = [_unzipped(ZIP, other[0], python), layer]
        for what in MODULES:
            runs.append((what, "shipped", label, shipped))
            runs.append((what, other[0], other[1], compared))
    else:
        data["skipped_handlers"] = f"{ZIP.relative_to(ROOT)} missing: run `make build`"
    children: dict[str, list[tuple[str, int]]] = {}
    samples: list[list[int]] = [[] for _ in runs]
    # Round robin over the rows, so that a burst of load on this shared machine hits all of them alike.
    for _ in range(repeats):
        for index, (what, key, _variant, path) in enumerate(runs):
            module = "boto3" if what.startswith("import boto3") else MODULES[what]
            micros, lines = _import_once(python, module, path)
            samples[index].append(micros)
            if module != "boto3" and key == "shipped":
                children[module] = heaviest_children(lines, module)
    for (what, key, variant, _path), found in zip(runs, samples, strict=True):
        data["rows"].append(
            {
                "what": what,
                "module": "boto3" if what.startswith("import boto3") else MODULES[what],
                "zip": key,  # shipped, source (its .pyc removed), compiled (.pyc added), layer (no zip)
                "variant": variant,
                "samples_us": found,
                "median_us": statistics.median(found),
            }
        )
    data["heaviest_children"] = children
    ctx.results[NAME] = data
    return Section(NAME, TITLE, _body(ctx, data, python), data)


def _zip_rows(facts: dict[str, Any]) -> list[list[object]]:
    largest = ", ".join(f"`{name}` {size / 1e6:.1f} MB" for name, size in facts["largest"])
    zipped, unzipped = facts["zip_bytes"], facts["unzipped_bytes"]
    return [
        ["runtime / architecture (dist/manifest.json)", f"{facts['runtime']} / {facts['arch']}"],
        ["zip size", f"{zipped:,} bytes ({zipped / 1e6:.1f} MB; a direct upload may be 50 MB)"],
        ["unzipped", f"{unzipped:,} bytes in {facts['files']:,} files (limit 250 MB)"],
        [
            ".pyc files in the zip (for .py files)",
            f"{facts['pyc_files']:,} ({facts.get('bytecode') or 'none'}) for {facts.get('py_files', 0):,}",
        ],
        ["largest top-level entries (unzipped)", largest],
    ]


def _body(ctx: Context, data: dict[str, Any], python: Path) -> str:
    rows = [
        [
            row["what"],
            f"`{row['module']}`",
            row["variant"],
            f"{row['median_us'] / 1000:.0f} ms",
            f"{min(row['samples_us']) / 1000:.0f} ms",
            f"{max(row['samples_us']) / 1000:.0f} ms",
        ]
        for row in data["rows"]
    ]
    quick = " --quick" if ctx.quick else ""
    # The program name only: the machine table says which interpreter it is (no machine path in docs).
    trace = f'`{Path(python).name} -X importtime -c "import MODULE"`'
    parts = [
        command("python -m bench.run --only cold-start" + quick),
        "",
        f"Each row: {trace} in {data['repeats']} fresh processes, the rows taken in turn; the figure is the"
        " cumulative import time of MODULE (with its parent package) from the trace. Import time is"
        " CPU-bound, so the minimum is the least disturbed by other load on this shared machine.",
        "",
        table(["", "module", "PYTHONPATH", "median", "min", "max"], rows),
    ]
    for module, heavy in data.get("heaviest_children", {}).items():
        listing = ", ".join(f"`{name}` {micros / 1000:.0f} ms" for name, micros in heavy)
        parts += ["", f"Heaviest direct imports of `{module}` (last run, as shipped): {listing}."]
    facts = data.get("zip")
    if facts:
        parts += ["", table(["dist/lambda.zip", "value"], _zip_rows(facts))]
    else:
        parts += ["", f"Handler rows skipped: {data.get('skipped_handlers')}."]
    if facts:
        parts += ["", _verdict(data)]
    parts += [
        "",
        "Not measured here: the Lambda service's own cold-start work (fetching the code, starting the"
        " execution environment and the runtime) and the handler's first invocation (creating boto3 clients,"
        " reading the secrets and the class sizes: the cold-container column of the critical path). The"
        " import time above is what our package adds to the INIT phase, which AWS bills as part of the"
        " invocation for on-demand functions. The runtime's own boto3 may be a different version from the"
        " pinned one used here.",
    ]
    return "\n".join(parts)


def handler_import_ms(data: dict[str, Any], zip_variant: str) -> float | None:
    """Best import time of the control-plane handler for one way of unpacking the zip, in ms."""
    for row in data.get("rows", []):
        if row["module"] == MODULES["control plane handler"] and row.get("zip") == zip_variant:
            return float(min(row["samples_us"])) / 1000
    return None


def _verdict(data: dict[str, Any]) -> str:
    shipped = handler_import_ms(data, "shipped")
    facts = data["zip"]
    if facts["pyc_files"]:
        source = handler_import_ms(data, "source")
        if shipped is None or source is None:
            return ""
        return (
            f"The zip ships bytecode for the runtime ({facts['bytecode']}, compiled by"
            " `scripts/build_artifacts.py`): importing the control-plane handler took"
            f" {shipped:.0f} ms as shipped against {source:.0f} ms from the same zip without its `.pyc`"
            f" files (best of the runs), {source - shipped:.0f} ms less INIT time per cold start on this CPU,"
            " roughly 3.5 times that on a 512 MB function. The zip grew by the bytecode (see the table)."
        )
    compiled = handler_import_ms(data, "compiled")
    if shipped is None or compiled is None:
        return ""
    return (
        f"**The zip ships no bytecode** (no runtime Python at build time): importing the control-plane"
        f" handler took {shipped:.0f} ms as shipped against {compiled:.0f} ms with `.pyc` compiled ahead."
    )
