"""modules/monitoring: the dashboard and alarms name metrics that exist, with their exact dimensions.

The module is evaluated by Terraform itself (``terraform console``, offline), and its metric
references are compared with what the functions' Powertools adapter really writes in its EMF
documents for every metric of ``ecsrunner_core.metrics_catalog.METRICS``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from ecsrunner_core.metrics_catalog import METRICS
from ecsrunner_sandbox.terraform import Terraform, stage_configuration
from metric_references import (
    MetricReference,
    alarm_references,
    dashboard_references,
    emitted_metrics,
    mismatches,
)

pytestmark = pytest.mark.e2e

NAMESPACE = "ecsrunner"
SERVICE = "ci-runners"
WRONG_SCHEMA = f"SEARCH('{{{NAMESPACE},reason}} MetricName=\"RunnersFailed\"', 'Sum', 300)"
INPUTS: dict[str, Any] = {
    "name": "ci-runners",
    "region": "eu-west-1",
    "metrics_namespace": NAMESPACE,
    "metrics_service": SERVICE,
    "control_plane_function_name": "ci-runners-control-plane",
    "janitor_function_name": "ci-runners-janitor",
    "api_id": "a1b2c3d4e5",
    "api_stage_name": "$default",
    "dead_letter_queue_names": {"event_failures": "ci-runners-event-failures"},
    "alarm_sns_topic_arn": "arn:aws:sns:eu-west-1:123456789012:ops",
}


@pytest.fixture(scope="module")
def emitted() -> dict[str, MetricReference]:
    return emitted_metrics(NAMESPACE, SERVICE)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The module's dashboard body and alarm definitions, as Terraform evaluates them."""
    staged = stage_configuration(tmp_path_factory.mktemp("configuration"))
    terraform = Terraform(staged / "modules" / "monitoring")
    terraform.init()
    variables = terraform.workdir / "inputs.tfvars.json"
    variables.write_text(json.dumps(INPUTS))
    expression = "base64encode(jsonencode({ dashboard = local.dashboard, alarms = local.alarms }))"
    completed = terraform.run("console", "-no-color", f"-var-file={variables}", stdin_text=expression + "\n")
    value: dict[str, Any] = json.loads(base64.b64decode(json.loads(completed.stdout.strip())))
    return value


def described(alarms: dict[str, Any]) -> list[dict[str, Any]]:
    """The module's alarm definitions in DescribeAlarms' MetricAlarms shape."""
    shaped = []
    for alarm in alarms.values():
        if alarm["query"] is not None:
            shaped.append(
                {"AlarmName": alarm["name"], "Metrics": [{"Id": "q1", "Expression": alarm["query"]}]}
            )
        else:
            shaped.append(
                {
                    "AlarmName": alarm["name"],
                    "Namespace": alarm["namespace"],
                    "MetricName": alarm["metric_name"],
                    "Dimensions": [{"Name": k, "Value": v} for k, v in alarm["dimensions"].items()],
                    "Statistic": alarm["statistic"],
                }
            )
    return shaped


def test_powertools_writes_every_catalog_metric_with_its_dimensions_plus_service(
    emitted: dict[str, MetricReference],
) -> None:
    """Measured, not assumed: plain metrics and single_metric documents both carry `service`."""
    assert set(emitted) == set(METRICS)
    for spec in METRICS.values():
        assert emitted[spec.name].namespace == NAMESPACE
        assert emitted[spec.name].dimensions == {*spec.dimensions, "service"}, spec.name
        assert emitted[spec.name].values["service"] == SERVICE


def test_every_custom_metric_on_the_dashboard_and_in_the_alarms_is_emitted_with_those_dimensions(
    evaluated: dict[str, Any], emitted: dict[str, MetricReference]
) -> None:
    references = dashboard_references(evaluated["dashboard"]) + alarm_references(
        described(evaluated["alarms"])
    )
    custom = [reference for reference in references if reference.namespace == NAMESPACE]

    assert len(custom) >= 10
    assert all(reference.values.get("service") == SERVICE for reference in custom)
    assert mismatches(references, emitted) == []


def test_the_dashboard_shows_what_an_operator_needs(evaluated: dict[str, Any]) -> None:
    dashboard = evaluated["dashboard"]
    references = dashboard_references(dashboard)
    custom = {reference.name for reference in references if reference.namespace == NAMESPACE}
    statistics = {reference.statistic for reference in references if reference.name == "JobStartLatency"}
    aws = {
        (reference.namespace, reference.name, tuple(sorted(reference.values.items())))
        for reference in references
        if reference.namespace.startswith("AWS/")
    }
    api = (("ApiId", "a1b2c3d4e5"), ("Stage", "$default"))

    assert custom >= {
        "RunnersByStatus", "JobStartLatency", "RunnersFailed", "RunnersRelaunched", "JobsReconciled",
        "WebhooksRedelivered", "GitHubRateLimitPauses", "JobsQueuedTooLong", "WarmPoolTarget",
        "WarmPoolLive", "WarmPoolIdle", "WarmPoolClaims",
    }  # fmt: skip
    assert statistics == {"p50", "p90"}
    assert aws >= {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", "ci-runners-event-failures"),)),
        ("AWS/Lambda", "Errors", (("FunctionName", "ci-runners-control-plane"),)),
        ("AWS/Lambda", "Throttles", (("FunctionName", "ci-runners-control-plane"),)),
        ("AWS/Lambda", "Errors", (("FunctionName", "ci-runners-janitor"),)),
        ("AWS/Lambda", "Throttles", (("FunctionName", "ci-runners-janitor"),)),
        ("AWS/ApiGateway", "4xx", api),
        ("AWS/ApiGateway", "5xx", api),
    }
    metric_widgets = [widget for widget in dashboard["widgets"] if widget["type"] == "metric"]
    assert all(widget["properties"]["region"] == "eu-west-1" for widget in metric_widgets)
    placed = [(w["x"], w["y"], w["width"], w["height"]) for w in dashboard["widgets"]]
    assert len(set(placed)) == len(placed) and all(x + width <= 24 for x, _, width, _ in placed)


def test_the_alarms_watch_the_queue_the_control_plane_failed_runners_and_queued_jobs(
    evaluated: dict[str, Any],
) -> None:
    alarms = evaluated["alarms"]
    watched = {(r.namespace, r.name, r.statistic) for r in alarm_references(described(alarms))}

    assert {key: alarm["name"] for key, alarm in alarms.items()} == {
        "dead_letter_queue_event_failures": "ci-runners-dead-letters-event-failures",
        "control_plane_errors": "ci-runners-control-plane-errors",
        "runners_failed": "ci-runners-runners-failed",
        "jobs_queued_too_long": "ci-runners-jobs-queued-too-long",
        "image_rebuilds_failed": "ci-runners-image-rebuilds-failed",
    }
    assert watched == {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"),
        ("AWS/Lambda", "Errors", "Sum"),
        (NAMESPACE, "RunnersFailed", "SUM"),
        (NAMESPACE, "JobsQueuedTooLong", "Sum"),
        (NAMESPACE, "ImageRebuildsFailed", "Sum"),
    }
    assert "GROUP BY" not in alarms["runners_failed"]["query"], "an alarm query must return one series"


def test_the_check_catches_a_metric_the_functions_do_not_emit(emitted: dict[str, MetricReference]) -> None:
    wrong = {
        "widgets": [
            {
                "type": "metric",
                "properties": {
                    "title": "wrong",
                    "metrics": [
                        [
                            {
                                "id": "a",
                                "expression": WRONG_SCHEMA,
                            }
                        ],
                        [NAMESPACE, "JobsQueuedTooLong", {"stat": "Sum"}],
                        [NAMESPACE, "RunnersExploded", "service", SERVICE],
                        [NAMESPACE, "JobsReconciled", "service", "another-deployment"],
                    ],
                },
            }
        ]
    }

    problems = mismatches(dashboard_references(wrong), emitted)

    assert len(problems) == 4, problems
    assert "RunnersFailed with dimensions ['reason']" in problems[0]
    assert "JobsQueuedTooLong with dimensions []" in problems[1]
    assert "RunnersExploded is not a catalog metric" in problems[2]
    assert "service='another-deployment'" in problems[3]


def test_module_readme_tables_are_generated_from_the_module(tf_docs: Any) -> None:
    """scripts/tf_docs.py does not list modules/monitoring (yet): the same tables, checked here."""
    module = Path(__file__).resolve().parents[2] / "modules" / "monitoring"
    readme = (module / "README.md").read_text()
    tables = {"INPUTS": tf_docs.inputs_table(module), "OUTPUTS": tf_docs.outputs_table(module)}

    assert tf_docs.render(readme, tables) == readme, (
        "regenerate the tables with scripts/tf_docs.py's functions"
    )
    for kind in ("variable", "output"):
        assert all(f"| `{block.name}` |" in readme for block in tf_docs.module_blocks(module, kind))
