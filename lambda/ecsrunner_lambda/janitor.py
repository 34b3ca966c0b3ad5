"""Janitor: the scheduled sweep (timeouts, TTL, retries, orphans), and scheduled image rebuilds."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecsrunner_core.adapters.janitor_waker import RESUME_EVENT
from ecsrunner_core.usecases.image_refresh import REBUILD_EVENT, rebuild_images
from ecsrunner_core.usecases.janitor import resume_launches, run_janitor

from . import runtime
from .observability import logger, metrics

GITHUB_BUDGET_SECONDS = 20.0


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps, deadline = runtime.deps(GITHUB_BUDGET_SECONDS), runtime.deadline(context)
    if event.get("ecsrunner") == RESUME_EVENT["ecsrunner"]:
        return resume_launches(deps, deadline).as_dict()
    if event.get("ecsrunner") == REBUILD_EVENT["ecsrunner"]:
        return rebuild_images(deps, deadline).as_dict()
    return run_janitor(deps, deadline).as_dict()
