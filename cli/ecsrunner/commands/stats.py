"""``runners stats``: jobs, queued -> running latency, failures, runner minutes and their estimated cost."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from ecsrunner_core.usecases.operator import list_runners
from ecsrunner_core.usecases.stats import DEFAULT_PRICES, FargatePrices, FleetStats, fleet_stats

from ..context import Context
from ..humanize import short_duration, when_text
from ..json_output import print_json
from ..tables import render_table

DEFAULT_SINCE = timedelta(days=7)
# --option -> the FargatePrices field it overrides.
PRICE_OPTIONS = {
    "price_vcpu_hour": "vcpu_hour",
    "price_gb_hour": "gb_hour",
    "price_arm_vcpu_hour": "arm_vcpu_hour",
    "price_arm_gb_hour": "arm_gb_hour",
    "spot_discount": "spot_discount",
}


def stats_command(context: Context) -> int:
    args = context.args
    settings = context.read_only_settings("runners stats", ("RUNNER_TABLE", "CLASS_SIZES_PARAM"))
    services = context.services(settings)
    sizes = services.classes.load().classes
    now = services.clock.now()
    since = now - (args.since or DEFAULT_SINCE)
    records = list_runners(services.store, None, since)  # one status-index Query per status
    stats = fleet_stats(records, sizes=sizes, since=since, now=now, prices=prices_from(args))
    if args.json:
        print_json(context.console, stats.to_json())
        return 0
    for line in report(stats, args.since or DEFAULT_SINCE, width=context.console.width):
        context.console.line(line)
    return 0


def prices_from(args: object) -> FargatePrices:
    overrides = {field: getattr(args, option) for option, field in PRICE_OPTIONS.items()}
    given = {field: value for field, value in overrides.items() if value is not None}
    return replace(DEFAULT_PRICES, **given) if given else DEFAULT_PRICES


def report(stats: FleetStats, window: timedelta, *, width: int | None = None) -> list[str]:
    """The text form, rendered from the JSON document so that both say the same."""
    document = stats.to_json()
    statuses = ", ".join(f"{count} {status}" for status, count in document["by_status"].items() if count)
    latency = document["queued_to_running_seconds"]
    failures = document["failures"]
    prices = stats.prices
    source = "list prices" if prices == DEFAULT_PRICES else "prices from --price-*/--spot-discount"
    lines = [
        f"runners created since {when_text(stats.since)} (the last {window_text(window)})",
        f"jobs              {stats.jobs} ({stats.runners} runners{': ' + statuses if statuses else ''})",
        "queued → running  " + _latency_text(latency),
        f"failures          {failures['total']}" + _kinds_text(failures["by_kind"]),
        f"runner minutes    {document['runner_minutes']:.1f}, estimated {money(stats.cost_usd)} "
        f"(Fargate {source}, {prices.region} {prices.read_on}; the image pull is billed too)",
    ]
    if stats.unpriced_minutes:
        lines.append(f"unpriced minutes  {stats.unpriced_minutes:.1f} (their class is no longer defined)")
    if document["by_repository"]:
        repositories = [(line["repository"], *_usage_cells(line)) for line in document["by_repository"]]
        lines += ["", *render_table(REPOSITORY_HEADERS, repositories, width=width)]
    if document["by_class"]:
        classes = [(line["class"], _size_text(line), *_usage_cells(line)) for line in document["by_class"]]
        lines += ["", *render_table(CLASS_HEADERS, classes, width=width)]
    return lines


REPOSITORY_HEADERS = ("REPOSITORY", "RUNNERS", "MINUTES", "EST. COST")
CLASS_HEADERS = ("CLASS", "SIZE", "RUNNERS", "MINUTES", "EST. COST")


def _latency_text(latency: dict[str, Any]) -> str:
    if not latency["count"]:
        return "no runner has run a job"
    return (
        f"p50 {_seconds(latency['p50'])}, p90 {_seconds(latency['p90'])} "
        f"({latency['count']} runners ran their job)"
    )


def _kinds_text(kinds: dict[str, int]) -> str:
    return (": " + ", ".join(f"{kind} {count}" for kind, count in kinds.items())) if kinds else ""


def _usage_cells(line: dict[str, Any]) -> tuple[str, str, str]:
    cost = line["estimated_cost_usd"]
    text = money(cost) if cost is not None else "unpriced"
    if cost is not None and line["unpriced_minutes"]:
        text += f" + {line['unpriced_minutes']:.1f} min unpriced"
    return str(line["runners"]), f"{line['runner_minutes']:.1f}", text


def _size_text(line: dict[str, Any]) -> str:
    if line["cpu"] is None:
        return "not defined"
    spot = ", spot" if line["spot"] else ""
    return f"{line['cpu'] / 1024:g} vCPU / {line['memory'] / 1024:g} GiB, {line['architecture']}{spot}"


def window_text(window: timedelta) -> str:
    """``7d``, ``24h``, ``90m`` as an operator types them; other spans as ``short_duration``."""
    seconds = int(window.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return short_duration(window)


def money(usd: float) -> str:
    return f"${usd:,.2f}" if usd >= 1 else f"${usd:.4f}"


def _seconds(value: float | None) -> str:
    return short_duration(timedelta(seconds=value)) if value is not None else "-"
