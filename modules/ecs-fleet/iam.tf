# Roles of runner tasks. The execution role is used by the ECS agent (pull the image, write logs,
# read the JIT environment file); the task role is what job code gets, and it holds nothing by
# default: it cannot read the JIT bucket.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    sid     = "EcsTasksOfThisAccount"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name                 = "${var.name}-runner-execution"
  description          = "ECS agent role for ${var.name} runner tasks: image pull, logs, JIT environment file"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid = "EcrAuthToken"
    # ecr:GetAuthorizationToken supports no resource-level permissions: AWS requires "*".
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PullRunnerImages"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [aws_ecr_repository.runner.arn]
  }

  statement {
    sid       = "RunnerLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.runner.arn}:*"]
  }

  statement {
    sid       = "ReadJitEnvironmentFiles"
    actions   = ["s3:GetObject"]
    resources = ["${var.jit_bucket_arn}/jit/*"]
  }

  statement {
    sid       = "LocateJitBucket"
    actions   = ["s3:GetBucketLocation"]
    resources = [var.jit_bucket_arn]
  }

  statement {
    sid       = "DecryptJitEnvironmentFiles"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "runner-execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name                 = "${var.name}-runner-task"
  description          = "Role of job code in ${var.name} runner tasks: no permissions unless attached"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "task" {
  count      = length(var.runner_task_role_policy_arns)
  role       = aws_iam_role.task.name
  policy_arn = var.runner_task_role_policy_arns[count.index]
}
