# The deployment's CloudWatch dashboard and alarms. The custom metrics are the EMF metrics of
# lambda/ecsrunner_core/metrics_catalog.py. Powertools writes every one of them with the catalog's
# dimensions plus `service` (POWERTOOLS_SERVICE_NAME), and CloudWatch matches a metric only by its
# exact dimension set, so:
#   - a metric without catalog dimensions is addressed by {service} alone;
#   - a dimensioned metric is graphed with a SEARCH over its exact schema
#     {namespace,<dimension>,service} (one line per dimension value; SEARCH also gives percentiles),
#     and alarmed on with a Metrics Insights query over SCHEMA(namespace, <dimension>, service),
#     which sums every dimension value into one series.
# Both filter on service = the deployment, so deployments sharing the namespace stay apart.

locals {
  period          = var.period_seconds
  quoted_ns       = jsonencode(var.metrics_namespace)
  dashboard_name  = "${var.name}-${var.region}"
  alarm_actions   = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
  service         = { service = var.metrics_service }
  functions       = { control_plane = var.control_plane_function_name, janitor = var.janitor_function_name }
  function_labels = { control_plane = "control plane", janitor = "janitor" }

  # One SEARCH per dimensioned metric graph: [metric, catalog dimension, statistic, label].
  searches = {
    runners_by_status = ["RunnersByStatus", "status", "Maximum", "$${PROP('Dim.status')}"]
    start_latency_p50 = ["JobStartLatency", "start", "p50", "p50 $${PROP('Dim.start')}"]
    start_latency_p90 = ["JobStartLatency", "start", "p90", "p90 $${PROP('Dim.start')}"]
    runners_failed    = ["RunnersFailed", "reason", "Sum", "$${PROP('Dim.reason')}"]
    relaunches        = ["RunnersRelaunched", "cause", "Sum", "relaunched: $${PROP('Dim.cause')}"]
    pool_target       = ["WarmPoolTarget", "pool", "Maximum", "target $${PROP('Dim.pool')}"]
    pool_live         = ["WarmPoolLive", "pool", "Maximum", "live $${PROP('Dim.pool')}"]
    pool_idle         = ["WarmPoolIdle", "pool", "Maximum", "idle $${PROP('Dim.pool')}"]
    pool_claims       = ["WarmPoolClaims", "pool", "Sum", "claims $${PROP('Dim.pool')}"]
  }
  search_lines = {
    for key, search in local.searches : key => [{
      id         = key
      expression = format("SEARCH('{%s,%s,service} MetricName=\"%s\" service=\"%s\"', '%s', %d)", local.quoted_ns, search[1], search[0], var.metrics_service, search[2], local.period)
      label      = search[3]
    }]
  }

  # A metric without catalog dimensions: [namespace, name, "service", <deployment>, options].
  plain_line = {
    for metric in ["JobsReconciled", "WebhooksRedelivered", "TasksReconciled", "GitHubRateLimitPauses", "JobsQueuedTooLong"] :
    metric => [var.metrics_namespace, metric, "service", var.metrics_service, { stat = "Sum" }]
  }

  widgets = [
    {
      title   = "Active runners by status"
      stat    = "Maximum"
      metrics = [local.search_lines.runners_by_status]
    },
    {
      title   = "Job start latency, queued to in_progress (seconds)"
      stat    = "p90"
      metrics = [local.search_lines.start_latency_p50, local.search_lines.start_latency_p90]
    },
    {
      title   = "Runners failed, by reason"
      stat    = "Sum"
      metrics = [local.search_lines.runners_failed]
    },
    {
      title = "Relaunches and reconciliations"
      stat  = "Sum"
      metrics = [
        local.search_lines.relaunches,
        local.plain_line.JobsReconciled,
        local.plain_line.WebhooksRedelivered,
        local.plain_line.TasksReconciled,
      ]
    },
    {
      title   = "Warm pools: target, live and idle runners, claims"
      stat    = "Maximum"
      metrics = [local.search_lines.pool_target, local.search_lines.pool_live, local.search_lines.pool_idle, local.search_lines.pool_claims]
    },
    {
      title   = "GitHub rate-limit pauses"
      stat    = "Sum"
      metrics = [local.plain_line.GitHubRateLimitPauses]
    },
    {
      title   = "Jobs queued past the threshold"
      stat    = "Sum"
      metrics = [local.plain_line.JobsQueuedTooLong]
    },
    {
      title   = "Dead-letter queue depth (undeliverable events, failed async invocations)"
      stat    = "Maximum"
      metrics = [for key, queue in var.dead_letter_queue_names : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, { label = key }]]
    },
    {
      title = "Lambda errors and throttles"
      stat  = "Sum"
      metrics = [
        for line in setproduct(keys(local.functions), ["Errors", "Throttles"]) :
        ["AWS/Lambda", line[1], "FunctionName", local.functions[line[0]], { label = "${local.function_labels[line[0]]} ${lower(line[1])}" }]
      ]
    },
    {
      title = "Webhook API responses"
      stat  = "Sum"
      metrics = [
        ["AWS/ApiGateway", "4xx", "ApiId", var.api_id, "Stage", var.api_stage_name, { label = "4xx (bad signature, throttled)" }],
        ["AWS/ApiGateway", "5xx", "ApiId", var.api_id, "Stage", var.api_stage_name, { label = "5xx" }],
        ["AWS/ApiGateway", "Count", "ApiId", var.api_id, "Stage", var.api_stage_name, { label = "requests" }],
      ]
    },
  ]

  dashboard = {
    widgets = concat(
      [{
        type   = "text"
        x      = 0
        y      = 0
        width  = 24
        height = 2
        properties = {
          markdown = "## ecsrunner ${var.name}\nRunners, jobs and the control plane of this deployment. Custom metrics: namespace `${var.metrics_namespace}`, service `${var.metrics_service}`."
        }
      }],
      [for index, widget in local.widgets : {
        type   = "metric"
        x      = (index % 2) * 12
        y      = 2 + floor(index / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = widget.title
          region  = var.region
          view    = "timeSeries"
          stacked = false
          period  = local.period
          stat    = widget.stat
          metrics = widget.metrics
        }
      }],
    )
  }

  # Alarms: a metric (namespace, metric_name, dimensions, statistic) or a Metrics Insights query.
  alarm_definitions = merge(
    {
      for key, queue in var.dead_letter_queue_names : "dead_letter_queue_${key}" => {
        name        = "${var.name}-dead-letters-${replace(key, "_", "-")}"
        description = "Messages in the dead-letter queue ${queue}: an event or async invocation of ecsrunner ${var.name} could not be delivered. Read the messages, fix the cause, then purge the queue."
        namespace   = "AWS/SQS"
        metric_name = "ApproximateNumberOfMessagesVisible"
        dimensions  = tomap({ QueueName = queue })
        statistic   = "Maximum"
        query       = null
      }
    },
    {
      control_plane_errors = {
        name        = "${var.name}-control-plane-errors"
        description = "The control-plane function ${var.control_plane_function_name} failed (webhooks, ECS or CodeBuild events); see its log group."
        namespace   = "AWS/Lambda"
        metric_name = "Errors"
        dimensions  = tomap({ FunctionName = var.control_plane_function_name })
        statistic   = "Sum"
        query       = null
      }
      runners_failed = {
        name        = "${var.name}-runners-failed"
        description = "Runners of ecsrunner ${var.name} ended FAILED (any reason; the dashboard splits them by reason). `python -m ecsrunner runners list --status FAILED` shows why."
        namespace   = null
        metric_name = null
        dimensions  = null
        statistic   = null
        query       = "SELECT SUM(RunnersFailed) FROM SCHEMA(${local.quoted_ns}, reason, service) WHERE service = '${var.metrics_service}'"
      }
      jobs_queued_too_long = {
        name        = "${var.name}-jobs-queued-too-long"
        description = "Jobs for ecsrunner ${var.name} stayed queued on GitHub longer than the janitor's threshold: no runner took them."
        namespace   = var.metrics_namespace
        metric_name = "JobsQueuedTooLong"
        dimensions  = tomap(local.service)
        statistic   = "Sum"
        query       = null
      }
      image_rebuilds_failed = {
        name        = "${var.name}-image-rebuilds-failed"
        description = "A scheduled image rebuild of ecsrunner ${var.name} failed: jobs keep the image's previous build, without the base image's new patches. `python -m ecsrunner images list` shows the image; its CodeBuild log says why."
        namespace   = var.metrics_namespace
        metric_name = "ImageRebuildsFailed"
        dimensions  = tomap(local.service)
        statistic   = "Sum"
        query       = null
      }
    },
  )
  alarms = { for key, alarm in local.alarm_definitions : key => alarm if var.enable_alarms }
}

resource "aws_cloudwatch_dashboard" "this" {
  count          = var.enable_dashboard ? 1 : 0
  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode(local.dashboard)
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  namespace   = each.value.query == null ? each.value.namespace : null
  metric_name = each.value.query == null ? each.value.metric_name : null
  dimensions  = each.value.query == null ? each.value.dimensions : null
  statistic   = each.value.query == null ? each.value.statistic : null
  period      = each.value.query == null ? local.period : null

  dynamic "metric_query" {
    for_each = each.value.query == null ? [] : [each.value.query]

    content {
      id          = "q1"
      expression  = metric_query.value
      period      = local.period
      label       = each.key
      return_data = true
    }
  }

  tags = var.tags
}
