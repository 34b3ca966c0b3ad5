# One role per function. Both launch runners (the janitor relaunches runners whose launch failed),
# so both get the launch permissions; only the control plane reads the webhook secret and starts
# image builds.

locals {
  ecs_arn_prefix = "arn:${local.partition}:ecs:${local.region}:${local.account_id}"
  task_arns      = "${local.ecs_arn_prefix}:task/${var.cluster_name}/*"
  task_definition_arns = [
    "${local.ecs_arn_prefix}:task-definition/${var.task_definition_family}:*",
    "${local.ecs_arn_prefix}:task-definition/${var.task_definition_family}-*:*",
  ]
  kms_via_services = [for service in ["dynamodb", "s3", "secretsmanager", "sqs"] : "${service}.${local.region}.amazonaws.com"]
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each             = local.functions
  name                 = each.value.name
  description          = "Role of the ${each.value.name} Lambda function"
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "launch_runners" {
  #checkov:skip=CKV_AWS_111:ecs:RegisterTaskDefinition supports no resource-level permissions; AWS requires "*" (comment below).
  #checkov:skip=CKV_AWS_356:Only ecs:RegisterTaskDefinition/DescribeTaskDefinition and ecs:ListTasks (cluster condition) use "*", which AWS requires for them.
  statement {
    sid = "RunnerTable"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]
    resources = [aws_dynamodb_table.runners.arn, "${aws_dynamodb_table.runners.arn}/index/*"]
  }

  statement {
    sid       = "RunRunnerTasks"
    actions   = ["ecs:RunTask"]
    resources = local.task_definition_arns

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }

  statement {
    sid       = "ManageRunnerTasks"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
    resources = [local.task_arns]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }

  statement {
    sid = "ListRunnerTasks"
    # ecs:ListTasks is a read-only list call scoped by the ecs:cluster condition; it takes no task ARN.
    actions   = ["ecs:ListTasks"]
    resources = ["*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }

  statement {
    sid       = "TagRunnerTasksOnLaunch"
    actions   = ["ecs:TagResource"]
    resources = [local.task_arns]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid       = "TagTaskDefinitionsOnRegister"
    actions   = ["ecs:TagResource"]
    resources = local.task_definition_arns

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RegisterTaskDefinition"]
    }
  }

  statement {
    sid = "PerImageTaskDefinitions"
    # ecs:RegisterTaskDefinition and ecs:DescribeTaskDefinition support no resource-level
    # permissions: AWS requires "*". What a registered definition can do is bounded by PassRole below.
    actions   = ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"]
    resources = ["*"]
  }

  statement {
    sid       = "PassRunnerRoles"
    actions   = ["iam:PassRole"]
    resources = [var.execution_role_arn, var.task_role_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid       = "WriteJitEnvironmentFiles"
    actions   = ["s3:DeleteObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.jit.arn}/jit/*"]
  }

  statement {
    sid       = "UseDeploymentKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = local.kms_via_services
    }
  }

  statement {
    sid       = "GitHubCredentials"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.github_credentials.arn]
  }

  statement {
    sid       = "ClassSizes"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.class_sizes.arn]
  }

  statement {
    sid       = "FindRunnerImages"
    actions   = ["ecr:DescribeImages", "ecr:ListImages"]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid       = "AsyncFailureDestination"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
  }

  dynamic "statement" {
    for_each = var.enable_image_build ? [1] : []

    content {
      sid = "ImageBuilds"
      # Both start builds: the janitor too, when it resumes a launch whose image is missing or
      # takes over a build lock whose holder died before StartBuild.
      actions   = ["codebuild:BatchGetBuilds", "codebuild:StartBuild"]
      resources = [var.codebuild_project_arn]
    }
  }

  statement {
    sid       = "WakeTheJanitorWhenAGitHubPauseEnds"
    actions   = ["scheduler:CreateSchedule", "scheduler:UpdateSchedule"]
    resources = ["arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/default/${local.wakeup_schedule_name}"]
  }

  statement {
    sid       = "PassTheWakeUpRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.wakeup.arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["scheduler.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "function" {
  for_each                = local.functions
  source_policy_documents = [data.aws_iam_policy_document.launch_runners.json]

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
  }

  dynamic "statement" {
    for_each = each.key == "control_plane" ? [1] : []

    content {
      sid       = "WebhookSecret"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [aws_secretsmanager_secret.webhook.arn]
    }
  }

  dynamic "statement" {
    for_each = each.key == "control_plane" ? [1] : []

    content {
      sid       = "WakeTheJanitorNow"
      actions   = ["lambda:InvokeFunction"]
      resources = [local.janitor_function_arn]
    }
  }
}

# EventBridge Scheduler invokes the janitor once when a GitHub rate-limit pause ends (a one-time
# schedule the functions create, deleted by the scheduler after it fired).
data "aws_iam_policy_document" "wakeup_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "wakeup" {
  name                 = "${var.name}-wakeup"
  description          = "EventBridge Scheduler: invokes ${local.janitor_function_name} when a GitHub pause ends"
  assume_role_policy   = data.aws_iam_policy_document.wakeup_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "wakeup" {
  statement {
    sid       = "InvokeTheJanitor"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.janitor_function_arn]
  }
}

resource "aws_iam_role_policy" "wakeup" {
  name   = "invoke-janitor"
  role   = aws_iam_role.wakeup.id
  policy = data.aws_iam_policy_document.wakeup.json
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions
  name     = "ecsrunner"
  role     = aws_iam_role.function[each.key].id
  policy   = data.aws_iam_policy_document.function[each.key].json
}
