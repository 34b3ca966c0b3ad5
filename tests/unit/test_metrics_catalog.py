"""Every metric the functions emit is in the catalog the dashboard and alarms read, with the same
dimensions, and every catalog entry is emitted somewhere."""

from __future__ import annotations

import ast
from pathlib import Path

from ecsrunner_core.metrics_catalog import JANITOR_REPORT_PREFIX, METRICS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    *(ROOT / "lambda" / "ecsrunner_core").rglob("*.py"),
    *(ROOT / "lambda" / "ecsrunner_lambda").rglob("*.py"),
]


def emitted() -> dict[str, set[tuple[str, ...]]]:
    """Metric name -> the dimension sets it is emitted with (from ``metrics.count/seconds`` calls)."""
    found: dict[str, set[tuple[str, ...]]] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in ("count", "seconds") or not node.args:
                continue
            name = node.args[0]
            if isinstance(name, ast.Constant) and isinstance(name.value, str) and name.value[:1].isupper():
                dimensions = tuple(sorted(k.arg for k in node.keywords if k.arg is not None))
                found.setdefault(name.value, set()).add(dimensions)
    return found


def test_every_emitted_metric_is_in_the_catalog_with_its_dimensions() -> None:
    for name, dimension_sets in emitted().items():
        assert name in METRICS, f"{name} is emitted but not in metrics_catalog.METRICS"
        assert dimension_sets == {tuple(sorted(METRICS[name].dimensions))}, name


def test_every_catalog_metric_is_emitted() -> None:
    assert set(METRICS) <= set(emitted()), set(METRICS) - set(emitted())


def test_janitor_report_counts_use_the_documented_prefix() -> None:
    source = (ROOT / "lambda" / "ecsrunner_core" / "usecases" / "janitor.py").read_text(encoding="utf-8")
    assert f'f"{JANITOR_REPORT_PREFIX}{{name}}"' in source
