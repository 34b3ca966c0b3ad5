"""3. Janitor cost against history: items read and time per run with 100 active runners and a growing
number of terminal records (100, 10,000, 100,000), on a moto server.

The janitor reads only the status index partitions of the active statuses, so the items it reads (the
Query ``ScannedCount``, what DynamoDB charges for) must not depend on the number of terminal records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecsrunner_core.adapters.dynamodb_store import STATUS_INDEX, WAITING_INDEX
from ecsrunner_core.domain.status import RunnerStatus
from ecsrunner_core.usecases.context import Deadline
from ecsrunner_core.usecases.janitor import run_janitor

from .history import HistoryWorld, history_world
from .markdown import command, ms, table
from .meters import PAUSE_READ, AwsMeter, GitHubMeter
from .probe import Measurement, Probe
from .report import Context, Section
from .sandbox import new_session
from .stats import median

NAME = "janitor"
TITLE = "Janitor cost against history"
JANITOR_DEADLINE_SECONDS = 297.0
JANITOR_GITHUB_BUDGET = 20.0
HEADERS = ["terminal records", "active (STARTING; waiting for a retry)", "runs", "queries"]
HEADERS += ["items read / run (status index + waiting index)"]
HEADERS += ["pause reads, each run", "read units / run (est.)", "AWS calls / run", "GitHub calls / run"]
HEADERS += ["wall / run (median)", "in moto Query", "our overhead"]


def _levels(ctx: Context) -> list[int]:
    return [100, 1_000] if ctx.quick else [100, 10_000, 100_000]


def _runs(ctx: Context, terminal: int) -> int:
    if ctx.quick:
        return 2
    return 3 if terminal >= 100_000 else 5


def _measure(world: HistoryWorld, probe: Probe, runs: int) -> list[Measurement]:
    services = world.sandbox.services(probe.session, github_budget_seconds=JANITOR_GITHUB_BUDGET)
    deps = services.deps()
    found = []
    for _ in range(runs):
        found.append(probe.call(lambda: run_janitor(deps, Deadline.after(JANITOR_DEADLINE_SECONDS))))
    return found


def _level_row(
    terminal: int, active: int, starting: int, waiting: int, runs: list[Measurement]
) -> dict[str, Any]:
    last = runs[-1]
    queries = [c for c in last.aws if c.target == "dynamodb.Query"]
    report = last.result
    return {
        "terminal": terminal,
        "active": active,
        "starting": starting,
        "waiting_for_retry": waiting,
        "status_index_items": sum(c.scanned or 0 for c in queries if c.index == STATUS_INDEX),
        "waiting_index_items": sum(c.scanned or 0 for c in queries if c.index == WAITING_INDEX),
        "waiting_index_queries": sum(1 for c in queries if c.index == WAITING_INDEX),
        # GetItem of the GitHub pause item in each run: cached 5 s per container (the store), so only
        # the first of these back-to-back runs reads it.
        "pause_reads": [m.counts()[PAUSE_READ] for m in runs],
        "runs": len(runs),
        "active_seen": report.active_seen,
        "actions": report.relaunched + report.timed_out + report.expired + report.orphan_tasks_stopped,
        "errors": len(report.errors),
        "queries": len(queries),
        "items_read": sum(c.scanned or 0 for c in queries),
        "items_returned": sum(c.returned or 0 for c in queries),
        "read_units": last.read_units,
        "aws_calls": len(last.aws),
        "github_calls": len(last.github_calls),
        "counts": dict(last.counts()),
        "wall_seconds": [m.wall for m in runs],
        "remote_seconds": [m.remote_seconds for m in runs],
        "overhead_seconds": [m.overhead for m in runs],
        "query_seconds": [sum(c.seconds for c in m.aws if c.target == "dynamodb.Query") for m in runs],
    }


def _plot(path: Path, rows: list[dict[str, Any]]) -> Path:
    import matplotlib.pyplot as plt

    figure, (items, times) = plt.subplots(1, 2, figsize=(10, 4.2))
    sizes = [row["terminal"] for row in rows]
    items.plot(
        sizes, [row["items_read"] for row in rows], marker="o", label="items read per run (ScannedCount)"
    )
    items.plot(sizes, [row["active"] for row in rows], linestyle="--", color="grey", label="active runners")
    items.set_xscale("log")
    items.set_ylim(0, max(row["items_read"] for row in rows) * 1.5 + 1)
    items.set_xlabel("terminal records in the table")
    items.set_title("DynamoDB items read per janitor run")
    items.legend(fontsize="small")
    times.plot(sizes, [median(row["wall_seconds"]) * 1000 for row in rows], marker="o", label="wall (median)")
    times.plot(
        sizes, [median(row["query_seconds"]) * 1000 for row in rows], marker="s", label="inside moto Query"
    )
    times.plot(
        sizes,
        [median(row["overhead_seconds"]) * 1000 for row in rows],
        marker="^",
        label="our overhead (median)",
    )
    times.set_xscale("log")
    times.set_yscale("log")
    times.set_xlabel("terminal records in the table")
    times.set_ylabel("ms per run")
    times.set_title("Time per run (moto server)")
    times.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def run(ctx: Context) -> Section:
    world = history_world(ctx)
    rows: list[dict[str, Any]] = []
    with world.environment():
        session = new_session()
        probe = Probe(session, AwsMeter(session), GitHubMeter(), world.sandbox.github)
        for terminal in _levels(ctx):
            world.grow_to(terminal)
            ctx.log(f"janitor: {world.terminal:,} terminal + {world.active} active records; running")
            with probe.github.active():
                runs = _measure(world, probe, _runs(ctx, terminal))
            starting = world.active_by_status.get(RunnerStatus.STARTING.value, 0)
            rows.append(_level_row(terminal, world.active, starting, world.waiting_for_retry, runs))
    plot = _plot(ctx.plots_dir / "janitor.png", rows)
    data: dict[str, Any] = {
        "levels": rows,
        "items_read_flat": len({row["items_read"] for row in rows}) == 1,
        "api_items": world.items_written,
        "api_seconds": world.write_seconds,
        "loaded_items": world.items_loaded,
        "load_seconds": world.load_seconds,
    }
    ctx.results[NAME] = data
    table_rows = [
        [
            row["terminal"],
            f"{row['active']} ({row['starting']}; {row['waiting_for_retry']})",
            row["runs"],
            row["queries"],
            f"{row['items_read']} ({row['status_index_items']} + {row['waiting_index_items']})",
            ", ".join(map(str, row["pause_reads"])),
            row["read_units"],
            row["aws_calls"],
            row["github_calls"],
            ms(median(row["wall_seconds"])),
            ms(median(row["query_seconds"])),
            ms(median(row["overhead_seconds"])),
        ]
        for row in rows
    ]
    quick = " --quick" if ctx.quick else ""
    first, last = rows[0], rows[-1]
    growth = median(last["query_seconds"]) / max(median(first["query_seconds"]), 1e-9)
    body = f"""
{command("python -m bench.run --only janitor" + quick)}

{table(HEADERS, table_rows)}

![janitor items read and time against history](bench/{Path(plot).name})

**Items read stay flat: {data["items_read_flat"]}.** Each run takes the janitor lease (one conditional
`PutItem` on `LEASE#janitor`, one `DeleteItem` at the end: one janitor at a time), queries the status index
once per active status (STARTING, IMAGE_CREATING, WAITING_FOR_JOB, RUNNING), then the sparse waiting index
once for the launches that are due (`launch_waiting`): {last["queries"]} queries reading the
{last["active"]} active runners once ({last["status_index_items"]} items) and, from the waiting index,
only the runners due for a launch ({last["waiting_index_items"]} items: the {last["waiting_for_retry"]}
runners waiting for a retry are due hours later, and the {last["starting"] - last["waiting_for_retry"]}
launched STARTING runners are not in that index), whatever the number of terminal records. A launch may
not call GitHub during a rate-limit pause, so the janitor reads the pause item (`{PAUSE_READ}`) at most
once per run; the store caches it for 5 s per container, so of these back-to-back runs in one container
only those that start more than 5 s after the last read read it (the column "pause reads": each run's
count). The other calls are one ECS `ListTasks` (every active runner's task is running in moto's ECS, so
none is described), the reconciliation with GitHub (the queued and in-progress workflow runs: none here)
and one GitHub `list runners` page for the orphan sweeps. The janitor took no action in these runs (all
active runners are fresh), so the figures are its fixed cost per run.

Time: our overhead per run is flat. The time inside moto's `Query` grows {growth:,.0f}x from
{first["terminal"]:,} to {last["terminal"]:,} terminal records because moto answers a GSI query by
scanning every item of the table (`moto/dynamodb/models/table.py`, `Table.query`), which DynamoDB
does not: it reads only the index partition, and charges by the items it read (the column above).

Records: the first {data["api_items"]:,} were written with `BatchWriteItem` against the moto server
({data["api_items"] / max(data["api_seconds"], 1e-9):,.0f} items/s through the API here); the other
{data["loaded_items"]:,} were loaded with the same items straight into moto's backend through a hook of
the bench's server ({data["loaded_items"] / max(data["load_seconds"], 1e-9):,.0f} items/s; see
`devtools/ecsrunner_sandbox/moto_patches.py`), to keep `make bench` short.
"""
    return Section(NAME, TITLE, body, data, [plot])
