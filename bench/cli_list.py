"""5. CLI: ``python -m ecsrunner runners list --status RUNNING --limit 50`` on 100,000 records.

The CLI runs as a subprocess against the seeded moto server shared with the janitor benchmark
(``RUNNER_TABLE`` and ``AWS_ENDPOINT_URL`` in its environment); the figure is the time from starting
the process to its first line of output. The same listing is also timed in-process through the core's
``list_runners`` (what the CLI calls), with the items DynamoDB read.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ecsrunner_core.adapters.clock import SystemClock
from ecsrunner_core.adapters.dynamodb_store import DynamoDbStore
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.operator import list_runners

from .history import history_world
from .markdown import command, ms, table
from .meters import AwsMeter
from .report import Context, Section
from .sandbox import DUMMY_CREDENTIALS, REGION, new_session
from .stats import median

NAME = "cli"
TITLE = "CLI: runners list on 100,000 records"
ROOT = Path(__file__).resolve().parent.parent
LIMIT = 50
CLI_ARGS = ["runners", "list", "--status", "RUNNING", "--limit", str(LIMIT)]


def cli_available() -> bool:
    if not (ROOT / "cli" / "ecsrunner" / "__main__.py").exists():
        return False
    probe = subprocess.run(
        [sys.executable, "-m", "ecsrunner", "runners", "list", "--help"],
        capture_output=True,
        env=_env({}),
        check=False,
    )
    return probe.returncode == 0


def _env(extra: dict[str, str]) -> dict[str, str]:
    path = os.pathsep.join(str(ROOT / part) for part in ("cli", "lambda", "devtools"))
    keep = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return {
        **keep,
        **DUMMY_CREDENTIALS,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "PYTHONPATH": path,
        **extra,
    }


def _time_cli(env: dict[str, str], args: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "ecsrunner", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    first_line = time.perf_counter() - started
    rest = process.stdout.read()
    errors = process.stderr.read() if process.stderr else b""
    code = process.wait()
    total = time.perf_counter() - started
    lines = (first + rest).decode(errors="replace").splitlines()
    return {
        "first_line_seconds": first_line,
        "total_seconds": total,
        "exit_code": code,
        "lines": len(lines),
        "first_line": lines[0][:120] if lines else "",
        "stderr": errors.decode(errors="replace")[-500:],
    }


def _core_listing(table_name: str) -> dict[str, Any]:
    session = new_session()
    meter = AwsMeter(session)
    store = DynamoDbStore(session.client("dynamodb"), table_name, SystemClock())
    started = time.perf_counter()
    listing = list_runners(store, [RunnerStatus.RUNNING], limit=LIMIT)
    first = next(listing, None)
    first_seconds = time.perf_counter() - started
    count = (1 if first else 0) + sum(1 for _ in listing)
    total = time.perf_counter() - started
    queries = [c for c in meter.calls if c.target == "dynamodb.Query"]
    return {
        "first_record_seconds": first_seconds,
        "total_seconds": total,
        "records": count,
        "queries": len(queries),
        "items_read": sum(c.scanned or 0 for c in queries),
        "query_seconds": sum(c.seconds for c in queries),
    }


def run(ctx: Context) -> Section:
    repeats = ctx.size(5, 1)
    world = history_world(ctx)
    target = 1_000 if ctx.quick else 100_000
    with world.environment():
        world.grow_to(target)
        ctx.log(f"cli: {world.terminal:,} terminal + {world.active} active records")
        core = [_core_listing(world.sandbox.settings.runner_table) for _ in range(repeats)]
    available = cli_available()
    cli: list[dict[str, Any]] = []
    baseline: list[dict[str, Any]] = []
    if available:
        env = _env(
            {
                "RUNNER_TABLE": world.sandbox.settings.runner_table,
                "AWS_ENDPOINT_URL": world.endpoint_url,
            }
        )
        baseline = [_time_cli(env, ["--version"]) for _ in range(repeats)]
        cli = [_time_cli(env, CLI_ARGS) for _ in range(repeats)]
    data: dict[str, Any] = {
        "records": world.terminal + world.active,
        "running": world.active_by_status.get("RUNNING", 0),
        "repeats": repeats,
        "cli_available": available,
        "cli": cli,
        "cli_startup": baseline,
        "core": core,
    }
    ctx.results[NAME] = data
    return Section(NAME, TITLE, _body(ctx, data), data)


def _body(ctx: Context, data: dict[str, Any]) -> str:
    core = data["core"]
    rows: list[list[object]] = []
    if data["cli"]:
        cli = data["cli"]
        rows.append(
            [
                "`python -m ecsrunner " + " ".join(CLI_ARGS) + "` (subprocess)",
                ms(median([r["first_line_seconds"] for r in cli])),
                ms(median([r["total_seconds"] for r in cli])),
                f"exit {cli[-1]['exit_code']}, {cli[-1]['lines']} lines",
            ]
        )
        rows.append(
            [
                "`python -m ecsrunner --version` (process start and imports only)",
                ms(median([r["first_line_seconds"] for r in data["cli_startup"]])),
                ms(median([r["total_seconds"] for r in data["cli_startup"]])),
                "",
            ]
        )
    rows.append(
        [
            f"core `list_runners(store, [RUNNING], limit={LIMIT})` in-process",
            ms(median([r["first_record_seconds"] for r in core])),
            ms(median([r["total_seconds"] for r in core])),
            f"{core[-1]['records']} records, {core[-1]['queries']} Query, "
            f"{core[-1]['items_read']} items read",
        ]
    )
    quick = " --quick" if ctx.quick else ""
    note = ""
    if not data["cli_available"]:
        note = "\nThe CLI (`cli/ecsrunner`) was not available when this ran: only the core call is timed.\n"
    moto_query = median([r["query_seconds"] for r in core])
    return f"""
{command("python -m bench.run --only cli" + quick)}

{data["records"]:,} runner records ({data["running"]} RUNNING) on the moto server shared with the janitor
benchmark; medians of {data["repeats"]} runs.

{table(["what", "to first output", "total", "notes"], rows)}
{note}
The listing reads the RUNNING partition of the status index newest first, one page at a time, never
a Scan: DynamoDB reads the {core[-1]["items_read"]} items it returns, whatever the history. Of the in-process
time, {ms(moto_query)} is inside moto's `Query`, which scans the whole table to answer an index query (see
the janitor section); against DynamoDB the first page costs one Query round trip.
"""
