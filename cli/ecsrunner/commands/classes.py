"""``classes list`` (and ``list-class-sizes``, the original tool's name)."""

from __future__ import annotations

from ..context import Context
from ..json_output import print_json
from ..tables import render_table

HEADERS = ("NAME", "CPU", "MEMORY", "SPOT", "ARCH", "STORAGE", "DEFAULT")


def list_command(context: Context) -> int:
    settings = context.read_only_settings("classes list", ("CLASS_SIZES_PARAM",))
    sizes = context.services(settings).classes.load()
    console = context.console
    if context.args.json:
        print_json(console, sizes.to_json())
        return 0
    rows = []
    for name in sizes.names():
        size = sizes.classes[name]
        rows.append(
            (
                name,
                f"{size.cpu} ({size.cpu / 1024:g} vCPU)",
                f"{size.memory} MiB",
                "yes" if size.spot else "no",
                size.architecture.value,
                f"{size.ephemeral_storage_gib} GiB" if size.ephemeral_storage_gib else "default",
                "*" if name == sizes.default else "",
            )
        )
    for line in render_table(HEADERS, rows, width=console.width):
        console.line(line)
    return 0
