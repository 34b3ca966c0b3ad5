"""Powertools logging and metrics, shared by both handlers; the core sees only its Metrics port."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools import Metrics as PowertoolsMetrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ecsrunner")

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "ecsrunner"))
metrics = PowertoolsMetrics(namespace=NAMESPACE)
copy_config_to_registered_loggers(source_logger=logger, include={"ecsrunner"})


class PowertoolsMetricsAdapter:
    """The core's Metrics port on Powertools EMF. Dimensioned counts go to their own metric set."""

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        if not dimensions:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
            return
        single = PowertoolsMetrics(namespace=NAMESPACE)
        for key, dimension in dimensions.items():
            single.add_dimension(name=key, value=dimension)
        single.add_metric(name=name, unit=MetricUnit.Count, value=value)
        single.flush_metrics()

    def seconds(self, name: str, value: float) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Seconds, value=value)
