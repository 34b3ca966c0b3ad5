"""Run the benchmarks and write docs/BENCHMARKS.md, its plots and a JSON file of the raw results.

python -m bench.run                        # everything (make bench)
python -m bench.run --quick --out /tmp/b   # tiny sizes (the smoke test)
python -m bench.run --only burst janitor   # some of them
"""

from __future__ import annotations

import argparse
import importlib
import logging
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import matplotlib

from . import findings, goals
from .machine import describe_machine
from .report import Context, Section, render, write_results

ROOT = Path(__file__).resolve().parent.parent
# name -> module; the order is the document's (the cost model reuses the call counts measured first).
BENCHMARKS = {
    "critical-path": "bench.critical_path",
    "warm-start": "bench.warm_start",
    "burst": "bench.burst",
    "janitor": "bench.janitor_cost",
    "cold-start": "bench.cold_start",
    "cli": "bench.cli_list",
    "cost": "bench.cost_model",
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that everything runs")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(BENCHMARKS), metavar="NAME", help=f"among {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs", help="BENCHMARKS.md here, plots in OUT/bench/"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="raw results (default: build/bench/results.json, or OUT/ with --quick)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    matplotlib.use("Agg")
    # The core logs through "ecsrunner"; the benchmarks count calls, they do not want the log lines.
    logging.getLogger("ecsrunner").addHandler(logging.NullHandler())
    names = [name for name in BENCHMARKS if not args.only or name in args.only]
    given = list(sys.argv[1:] if argv is None else argv)
    context = Context(
        out_dir=args.out, quick=args.quick, command=shlex.join(["python", "-m", "bench.run", *given])
    )
    machine = describe_machine()
    sections: list[Section] = []
    with context.stack:
        for name in names:
            context.log(f"{name}: start")
            started = time.monotonic()
            section: Section = importlib.import_module(BENCHMARKS[name]).run(context)
            section.seconds = time.monotonic() - started
            context.log(f"{name}: done in {section.seconds:.1f}s")
            sections.append(section)
    total = time.monotonic() - context.started
    args.out.mkdir(parents=True, exist_ok=True)
    document = args.out / "BENCHMARKS.md"
    goal_table = goals.render(context.results)
    document.write_text(
        render(machine, sections, context.command, total, findings.render(context.results), goal_table)
    )
    results = args.json or (
        args.out / "results.json" if args.quick else ROOT / "build" / "bench" / "results.json"
    )
    write_results(results, machine, sections, context.results.get("goals", {}))
    context.log(f"wrote {document} and {results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
