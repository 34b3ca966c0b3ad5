"""``images list``: the image records joined with the tags in the ECR repository."""

from __future__ import annotations

from collections.abc import Iterable

from ecsrunner_core.ports import RegistryImage
from ecsrunner_core.usecases.image_catalog import CatalogImage, catalog_view, image_catalog

from ..context import Context
from ..humanize import size_text, when_text
from ..json_output import print_json
from ..tables import render_table
from .formatting import image_text, status_style

HEADERS = ("BASE IMAGE", "TAG", "ARCH", "STATE", "BUILT AT", "SIZE")
PUSHED_ONLY = "PUSHED"  # in ECR, not yet recorded: the control plane registers it on first use


def list_command(context: Context) -> int:
    settings = context.read_only_settings("images list", ("RUNNER_TABLE",))
    services = context.services(settings)
    console = context.console
    pushed: Iterable[RegistryImage] = ()
    if settings.ecr_repository_url:
        pushed = services.registry.list()
    else:
        console.note("note: ECR_REPOSITORY_URL is not set: images pushed outside ecsrunner are not shown")
    catalog = image_catalog(services.store.list_images(), pushed)
    if context.args.json:
        print_json(console, [catalog_view(entry) for entry in catalog])
        return 0
    if not catalog:
        console.note("no runner images yet: `images build` builds the default one")
        return 0
    rows = [_row(entry) for entry in catalog]

    def paint(column: int, text: str) -> str:
        return console.paint(text, status_style(text)) if column == 3 else text

    for line in render_table(HEADERS, rows, width=console.width, paint=paint):
        console.line(line)
    return 0


def _row(entry: CatalogImage) -> tuple[str, ...]:
    record = entry.record
    state = record.state.value if record else PUSHED_ONLY
    return (
        image_text(record.base_image) if record else "-",
        entry.tag,
        record.architecture if record else "-",
        state,
        when_text(entry.built_at),
        size_text(entry.size_bytes),
    )
