"""``make reliability``: the long fault-injection, fuzzing and model-based runs, then docs/RELIABILITY.md.

Runs ``pytest tests/reliability`` with ``RELIABILITY_SCALE`` (long by default), ``RELIABILITY_SEED``
and ``RELIABILITY_FIGURES`` (``build/reliability/``, where the tests write their figures), and
renders those figures. The document is written only when every test passed; ``--render-only``
renders the figures of the last run again (after a change to the text).

Usage: ``PYTHONPATH=devtools:. python -m ecsrunner_sandbox.reliability_report [--scale long|short]
[--seed N] [--workers N] [--output docs/RELIABILITY.md] [--render-only]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .reliability_markdown import RunInfo, render

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SEED = 20261123
SECTIONS = (
    "campaign",
    "campaign_overlapping",
    "campaign_pools",
    "fuzz_corpus",
    "fuzz_generated",
    "fuzz_handler",
    "model",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ecsrunner_sandbox.reliability_report", description=__doc__
    )
    parser.add_argument("--scale", choices=("long", "short"), default="long")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "RELIABILITY.md")
    parser.add_argument("--figures", type=Path, default=ROOT / "build" / "reliability")
    parser.add_argument("--render-only", action="store_true", help="render the last run's figures again")
    return parser.parse_args(argv)


def machine() -> str:
    cpus = os.cpu_count() or 0
    return f"{platform.system()} {platform.release()} {platform.machine()}, {cpus} CPUs"


def run_tests(args: argparse.Namespace, figures_dir: Path) -> tuple[int, str]:
    env = {
        **os.environ,
        "RELIABILITY_SCALE": args.scale,
        "RELIABILITY_SEED": str(args.seed),
        "RELIABILITY_FIGURES": str(figures_dir),
        "HYPOTHESIS_PROFILE": "ci",
    }
    # -rfE: the summary at the end names each failure with its message, so the tail shows why.
    command = [sys.executable, "-m", "pytest", "tests/reliability", "-q", "-rfE", "-p", "no:cacheprovider"]
    if args.workers > 1:
        command += ["-n", str(args.workers), "--dist", "loadgroup"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    log_file = figures_dir / "pytest.log"
    log_file.write_text(done.stdout + done.stderr, encoding="utf-8")
    sys.stdout.write(done.stdout[-4000:])
    sys.stderr.write(done.stderr[-4000:])
    if done.returncode != 0:
        shown = log_file.relative_to(ROOT) if log_file.is_relative_to(ROOT) else log_file
        sys.stdout.write(f"\nthe whole pytest output: {shown}\n")
    lines = [line for line in done.stdout.splitlines() if " passed" in line or " failed" in line]
    return done.returncode, (lines[-1].strip("= ") if lines else "no result")


def read_figures(figures_dir: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {
        section: json.loads((figures_dir / f"{section}.json").read_text()) for section in SECTIONS
    }
    figures["breakages"] = [
        json.loads(path.read_text()) for path in sorted(figures_dir.glob("breakage_*.json"))
    ]
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    run_file = args.figures / "run.json"
    info = RunInfo(**json.loads(run_file.read_text())) if args.render_only else measure(args)
    if info is None:
        return 1
    if not args.render_only:
        run_file.write_text(json.dumps(asdict(info), indent=2))
    args.output.write_text(render(read_figures(args.figures), info), encoding="utf-8")
    sys.stdout.write(f"wrote {args.output}\n")
    return 0


def measure(args: argparse.Namespace) -> RunInfo | None:
    started = time.monotonic()
    args.figures.mkdir(parents=True, exist_ok=True)
    for stale in args.figures.glob("*.json"):
        stale.unlink()
    status, result = run_tests(args, args.figures)
    if status != 0:
        sys.stderr.write(f"reliability tests failed ({result}); {args.output} not written\n")
        return None
    options = _args_text(args)
    return RunInfo(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        machine=machine(),
        python=platform.python_version(),
        seed=args.seed,
        scale=args.scale,
        command="make reliability" + (f' RELIABILITY_ARGS="{options}"' if options else ""),
        seconds=time.monotonic() - started,
        pytest_summary=result,
    )


def _args_text(args: argparse.Namespace) -> str:
    parts = []
    if args.scale != "long":
        parts.append(f"--scale {args.scale}")
    if args.seed != DEFAULT_SEED:
        parts.append(f"--seed {args.seed}")
    return " ".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
