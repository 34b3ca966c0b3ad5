"""Control plane: POST /webhook (HTTP API payload 2.0) and ECS / CodeBuild state-change events."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecsrunner_core.usecases.dispatch import handle_control_plane_event

from . import runtime
from .observability import logger, metrics

# GitHub waits 10 s for a webhook answer: retries inside one delivery stay well inside that.
GITHUB_BUDGET_SECONDS = 4.0
WEBHOOK_DEADLINE_SECONDS = 8.0


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="requestContext.requestId || id", clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    delivery = (event.get("headers") or {}).get("x-github-delivery")
    if delivery:
        logger.append_keys(github_delivery=delivery)
    is_webhook = "requestContext" in event
    deadline = runtime.deadline(context, WEBHOOK_DEADLINE_SECONDS if is_webhook else None)
    return handle_control_plane_event(runtime.deps(GITHUB_BUDGET_SECONDS), event, deadline)
