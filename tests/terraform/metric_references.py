"""Which CloudWatch metrics a dashboard body and alarm definitions refer to, and with which dimensions.

CloudWatch matches a metric only by its exact dimension set, so a dashboard line or an alarm names a
metric that exists only if its namespace, name and dimension names are the ones the code emits. This
reads the three forms the module uses: metric arrays (``[namespace, name, dim, value, ..., {options}]``),
SEARCH expressions (``SEARCH('{namespace,dim,...} MetricName="x" dim="v"', 'stat', period)``) and
Metrics Insights queries (``SELECT SUM(x) FROM SCHEMA("namespace", dim, ...) WHERE dim = 'v'``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
SEARCH = re.compile(r"SEARCH\(\s*'\{(?P<schema>[^}]*)\}(?P<terms>[^']*)'\s*,\s*'(?P<stat>[^']+)'")
SEARCH_TERM = re.compile(r'(?P<key>[A-Za-z_][\w.-]*)\s*=\s*"(?P<value>[^"]*)"')
INSIGHTS = re.compile(
    r"SELECT\s+(?P<function>\w+)\((?P<metric>[^)]+)\)\s+FROM\s+SCHEMA\((?P<schema>[^)]*)\)"
    r"(?:\s+WHERE\s+(?P<where>.*?))?(?:\s+GROUP BY.*)?$",
    re.IGNORECASE | re.DOTALL,
)
WHERE_TERM = re.compile(r"(?P<key>\w+)\s*=\s*'(?P<value>[^']*)'")


@dataclass(frozen=True)
class MetricReference:
    namespace: str
    name: str
    dimensions: frozenset[str]
    # Dimension values the reference fixes (a metric array's values, a SEARCH's or WHERE's terms).
    values: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    statistic: str | None = None
    where: str = ""  # e.g. "dashboard: Runners failed, by reason" or "alarm: x-runners-failed"


def _unquote(text: str) -> str:
    text = text.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _schema(schema: str) -> tuple[str, frozenset[str]]:
    namespace, *dimensions = [_unquote(part) for part in schema.split(",")]
    return namespace, frozenset(dimensions)


def parse_search(expression: str, where: str) -> list[MetricReference]:
    found = []
    for match in SEARCH.finditer(expression):
        namespace, dimensions = _schema(match.group("schema"))
        terms = {
            term.group("key"): term.group("value") for term in SEARCH_TERM.finditer(match.group("terms"))
        }
        name = terms.pop("MetricName", "")
        found.append(MetricReference(namespace, name, dimensions, terms, match.group("stat"), where))
    return found


def parse_insights(query: str, where: str) -> MetricReference | None:
    match = INSIGHTS.search(query.strip())
    if match is None:
        return None
    namespace, dimensions = _schema(match.group("schema"))
    values = {
        term.group("key"): term.group("value") for term in WHERE_TERM.finditer(match.group("where") or "")
    }
    return MetricReference(
        namespace, match.group("metric").strip(), dimensions, values, match.group("function"), where
    )


def _metric_array(line: list[Any], where: str) -> MetricReference:
    fields = [item for item in line if not isinstance(item, dict)]
    options = next((item for item in line if isinstance(item, dict)), {})
    namespace, name, *pairs = fields
    values = dict(zip(pairs[::2], pairs[1::2], strict=True))
    return MetricReference(namespace, name, frozenset(values), values, options.get("stat"), where)


def dashboard_references(body: Mapping[str, Any]) -> list[MetricReference]:
    """Every metric the dashboard's metric widgets graph (expressions and metric arrays)."""
    found: list[MetricReference] = []
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        properties = widget["properties"]
        where = f"dashboard: {properties.get('title', '?')}"
        for line in properties["metrics"]:
            expression = next(
                (item["expression"] for item in line if isinstance(item, dict) and "expression" in item), None
            )
            if expression is not None:
                references = parse_search(expression, where)
                insights = parse_insights(expression, where)
                references += [insights] if insights else []
                if not references:
                    raise ValueError(f"{where}: expression names no metric: {expression}")
                found += references
            else:
                reference = _metric_array(line, where)
                found.append(replace(reference, statistic=reference.statistic or properties.get("stat")))
    return found


def alarm_references(alarms: Iterable[Mapping[str, Any]]) -> list[MetricReference]:
    """Every metric alarms (in DescribeAlarms' MetricAlarms shape) watch."""
    found: list[MetricReference] = []
    for alarm in alarms:
        where = f"alarm: {alarm['AlarmName']}"
        if alarm.get("MetricName"):
            values = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
            found.append(
                MetricReference(
                    alarm["Namespace"],
                    alarm["MetricName"],
                    frozenset(values),
                    values,
                    alarm.get("Statistic"),
                    where,
                )
            )
        for query in alarm.get("Metrics", []):
            if "MetricStat" in query:
                metric = query["MetricStat"]["Metric"]
                values = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
                found.append(
                    MetricReference(
                        metric["Namespace"], metric["MetricName"], frozenset(values), values, None, where
                    )
                )
            elif "Expression" in query:
                references = parse_search(query["Expression"], where)
                insights = parse_insights(query["Expression"], where)
                references += [insights] if insights else []
                if not references:
                    raise ValueError(f"{where}: expression names no metric: {query['Expression']}")
                found += references
    return found


# Emits every catalog metric through the functions' own Powertools adapter and prints each EMF
# document's (metric name, dimension names); the namespace and service come from the environment,
# exactly as in the deployed functions.
EMIT_SCRIPT = """
import contextlib, io, json, sys
from ecsrunner_core.metrics_catalog import METRICS
from ecsrunner_lambda import observability
captured = io.StringIO()
with contextlib.redirect_stdout(captured):
    adapter = observability.PowertoolsMetricsAdapter()
    for spec in METRICS.values():
        dimensions = {name: "x" for name in spec.dimensions}
        if spec.unit == "Seconds":
            adapter.seconds(spec.name, 1.0, **dimensions)
        else:
            adapter.count(spec.name, 1, **dimensions)
    observability.metrics.flush_metrics()
emitted = []
for line in captured.getvalue().splitlines():
    document = json.loads(line)
    for directive in document["_aws"]["CloudWatchMetrics"]:
        for metric in directive["Metrics"]:
            for dimension_set in directive["Dimensions"]:
                emitted.append([directive["Namespace"], metric["Name"], sorted(dimension_set),
                                {name: document[name] for name in dimension_set}])
json.dump(emitted, sys.stdout)
"""


def emitted_metrics(namespace: str, service: str) -> dict[str, MetricReference]:
    """What the functions' EMF documents declare per catalog metric, under this environment."""
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("POWERTOOLS_")},
        "POWERTOOLS_METRICS_NAMESPACE": namespace,
        "POWERTOOLS_SERVICE_NAME": service,
        "PYTHONPATH": str(REPO_ROOT / "lambda"),
    }
    completed = subprocess.run(
        [sys.executable, "-c", EMIT_SCRIPT],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    emitted: dict[str, MetricReference] = {}
    for emitted_namespace, name, dimensions, values in json.loads(completed.stdout):
        assert name not in emitted, f"{name} is emitted with more than one dimension set"
        emitted[name] = MetricReference(emitted_namespace, name, frozenset(dimensions), values, None, "EMF")
    return emitted


def mismatches(references: Iterable[MetricReference], emitted: Mapping[str, MetricReference]) -> list[str]:
    """References to the functions' namespace that name no emitted metric or the wrong dimensions,
    or that fix a dimension value the functions never write (e.g. another service)."""
    namespaces = {reference.namespace for reference in emitted.values()}
    problems = []
    for reference in references:
        if reference.namespace not in namespaces:
            continue
        actual = emitted.get(reference.name)
        if actual is None:
            problems.append(f"{reference.where}: {reference.name} is not a catalog metric")
            continue
        if reference.dimensions != actual.dimensions:
            problems.append(
                f"{reference.where}: {reference.name} with dimensions {sorted(reference.dimensions)},"
                f" emitted with {sorted(actual.dimensions)}"
            )
        for dimension, value in reference.values.items():
            emitted_service = actual.values.get("service")
            if dimension == "service" and value != emitted_service:
                problems.append(
                    f"{reference.where}: {reference.name} filtered on service={value!r},"
                    f" emitted with {emitted_service!r}"
                )
    return problems
