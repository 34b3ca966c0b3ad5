"""``pools list``: each warm pool's size now (target from its schedule, live, idle)."""

from __future__ import annotations

from ecsrunner_core.usecases.pools import pool_statuses

from ..context import Context
from ..json_output import print_json_array
from ..tables import render_table

HEADERS = ("POOL", "CLASS", "IMAGE", "TARGET", "LIVE", "IDLE", "MAX IDLE")


def list_command(context: Context) -> int:
    settings = context.read_only_settings("pools list", ("RUNNER_TABLE",))
    services = context.services(settings)
    statuses = pool_statuses(services.deps())
    if context.args.json:
        print_json_array(context.console, (status.as_dict() for status in statuses))
        return 0
    if not statuses:
        context.console.note("no warm pools (the warm_pools variable is empty)")
        return 0
    rows = [
        (s.name, s.class_name, s.image, str(s.target), str(s.live), str(s.idle), f"{s.max_idle_seconds}s")
        for s in statuses
    ]
    for line in render_table(HEADERS, rows, width=context.console.width):
        context.console.line(line)
    return 0
