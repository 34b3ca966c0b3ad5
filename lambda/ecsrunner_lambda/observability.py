"""Powertools logging and metrics, shared by both handlers; the core sees only its Metrics port."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools import Metrics as PowertoolsMetrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ecsrunner")

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "ecsrunner"))
metrics = PowertoolsMetrics(namespace=NAMESPACE)
copy_config_to_registered_loggers(source_logger=logger, include={"ecsrunner"})


class PowertoolsMetricsAdapter:
    """The core's Metrics port on Powertools EMF.

    Dimensioned counts are written as their own EMF document (``single_metric``): Powertools
    ``Metrics`` instances share one metric set, so flushing a second instance would publish every
    metric of the invocation under the dimension.
    """

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        _emit(name, MetricUnit.Count, value, dimensions)

    def seconds(self, name: str, value: float, **dimensions: str) -> None:
        _emit(name, MetricUnit.Seconds, value, dimensions)


def _emit(name: str, unit: MetricUnit, value: float, dimensions: dict[str, str]) -> None:
    if not dimensions:
        metrics.add_metric(name=name, unit=unit, value=value)
        return
    first, *rest = dimensions.items()
    with single_metric(
        name=name, unit=unit, value=value, namespace=NAMESPACE, default_dimensions=dict(rest)
    ) as metric:
        metric.add_dimension(name=first[0], value=first[1])
