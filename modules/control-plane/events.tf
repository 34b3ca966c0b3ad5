# EventBridge (default bus): ECS task state changes of this cluster and CodeBuild state changes of
# this project go to the control plane; a schedule drives the janitor. Undeliverable events and
# failed async invocations land in one encrypted SQS queue.

locals {
  event_patterns = merge(
    {
      ecs_task_state = jsonencode({
        source        = ["aws.ecs"]
        "detail-type" = ["ECS Task State Change"]
        detail        = { clusterArn = [var.cluster_arn] }
      })
    },
    var.enable_image_build ? {
      codebuild_state = jsonencode({
        source        = ["aws.codebuild"]
        "detail-type" = ["CodeBuild Build State Change"]
        detail        = { "project-name" = [var.codebuild_project_name] }
      })
    } : {},
  )

  dead_letter_queue_name = "${var.name}-event-failures"
  dead_letter_queue_arn  = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.dead_letter_queue_name}"

  rule_targets = merge(
    { for key in keys(local.event_patterns) : key => { function = "control_plane", max_age = 3600, retries = 24 } },
    { janitor_schedule = { function = "janitor", max_age = 300, retries = 2 } },
    local.image_rebuilds ? { image_rebuild = { function = "janitor", max_age = 3600, retries = 4 } } : {},
  )
  # What each target receives: the event itself, or a fixed input naming the janitor's task
  # (REBUILD_EVENT in lambda/ecsrunner_core/usecases/image_refresh.py).
  target_inputs = { image_rebuild = jsonencode({ ecsrunner = "rebuild-images" }) }
}

# The queue policy is inline and names the queue and rules by their computed ARNs: a separate
# aws_sqs_queue_policy costs a second ~25 s propagation wait on create and destroy.
resource "aws_sqs_queue" "dead_letters" {
  name                              = local.dead_letter_queue_name
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  message_retention_seconds         = 1209600
  policy                            = data.aws_iam_policy_document.dead_letters.json
  tags                              = var.tags
}

data "aws_iam_policy_document" "dead_letters" {
  statement {
    sid       = "EventBridgeDeadLettersFromOurRules"
    actions   = ["sqs:SendMessage"]
    resources = [local.dead_letter_queue_arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = values(local.rule_arns)
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [local.dead_letter_queue_arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each            = local.rule_names
  name                = each.value
  description         = "ecsrunner ${var.name}: ${replace(each.key, "_", " ")}"
  event_pattern       = lookup(local.event_patterns, each.key, null)
  schedule_expression = lookup(local.schedules, each.key, null)
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  for_each  = local.rule_targets
  rule      = aws_cloudwatch_event_rule.this[each.key].name
  target_id = replace(each.value.function, "_", "-")
  arn       = aws_lambda_function.this[each.value.function].arn
  input     = lookup(local.target_inputs, each.key, null)

  retry_policy {
    maximum_event_age_in_seconds = each.value.max_age
    maximum_retry_attempts       = each.value.retries
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letters.arn
  }
}

resource "aws_lambda_permission" "events" {
  for_each      = local.rule_targets
  statement_id  = "events-${replace(each.key, "_", "-")}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.value.function].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this[each.key].arn
}
