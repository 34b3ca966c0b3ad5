data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # provider 6.x renamed the region attribute from `name` to `region`; reading whichever exists
  # keeps the module free of deprecation warnings on 5.x and 6.x.
  region = coalesce(lookup(data.aws_region.current, "region", null), lookup(data.aws_region.current, "name", null))

  control_plane_function_name = "${var.name}-control-plane"
  janitor_function_name       = "${var.name}-janitor"
  # Built from the name: the control plane's environment names the janitor without a cycle.
  janitor_function_arn = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.janitor_function_name}"
  wakeup_schedule_name = "${var.name}-resume-launches"
  log_group_names = {
    control_plane = "/aws/lambda/${local.control_plane_function_name}"
    janitor       = "/aws/lambda/${local.janitor_function_name}"
    webhook_api   = "/aws/apigateway/${var.name}-webhook"
  }

  rule_names = merge(
    {
      ecs_task_state   = "${var.name}-ecs-task-state"
      janitor_schedule = "${var.name}-janitor-schedule"
    },
    var.enable_image_build ? { codebuild_state = "${var.name}-codebuild-state" } : {},
    local.image_rebuilds ? { image_rebuild = "${var.name}-image-rebuild" } : {},
  )
  image_rebuilds = var.enable_image_build && var.image_rebuild_schedule != null
  schedules = merge(
    { janitor_schedule = var.janitor_schedule_expression },
    local.image_rebuilds ? { image_rebuild = var.image_rebuild_schedule } : {},
  )
  rule_arns = { for key, rule in local.rule_names : key => "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${rule}" }

  class_sizes_document = jsonencode({
    default = var.default_class
    classes = {
      for class_name, size in var.runner_class_sizes : class_name => {
        cpu                   = size.cpu
        memory                = size.memory
        spot                  = size.spot
        architecture          = size.architecture
        ephemeral_storage_gib = size.ephemeral_storage_gib
      }
    }
  })
}

resource "aws_dynamodb_table" "runners" {
  name                        = "${var.name}-runners"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  deletion_protection_enabled = var.runner_table_deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "status"
    type = "S"
  }

  attribute {
    name = "created_at"
    type = "S"
  }

  attribute {
    name = "waiting"
    type = "S"
  }

  attribute {
    name = "due_at"
    type = "S"
  }

  # Sparse: only runner items in a non-terminal status carry `status`.
  global_secondary_index {
    name            = "status-index"
    hash_key        = "status"
    range_key       = "created_at"
    projection_type = "ALL"
  }

  # Sparse: only a STARTING runner without a task (waiting for a slot, a retry or the end of a
  # GitHub pause) carries `waiting`: a freed slot reads the next one due, not a whole status.
  global_secondary_index {
    name            = "waiting-index"
    hash_key        = "waiting"
    range_key       = "due_at"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_secretsmanager_secret" "github_credentials" {
  #checkov:skip=CKV2_AWS_57:A GitHub PAT or App private key is issued by GitHub; rotate it there and update this secret (no Lambda can mint one).
  name                    = "${var.name}/github-credentials"
  description             = "GitHub credentials of ecsrunner ${var.name}: {\"type\":\"pat\",...} or {\"type\":\"app\",...}"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "github_credentials" {
  secret_id     = aws_secretsmanager_secret.github_credentials.id
  secret_string = var.github_credentials_json
}

resource "aws_secretsmanager_secret" "webhook" {
  #checkov:skip=CKV2_AWS_57:The webhook secret is shared with GitHub's webhook settings; rotating it needs a coordinated change there.
  name                    = "${var.name}/webhook-secret"
  description             = "Secret GitHub signs ecsrunner ${var.name} webhook deliveries with (X-Hub-Signature-256)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "webhook" {
  secret_id     = aws_secretsmanager_secret.webhook.id
  secret_string = var.webhook_secret

  lifecycle {
    precondition {
      condition     = length(var.webhook_secret) >= 16
      error_message = "webhook_secret must be at least 16 characters; generate one with `openssl rand -hex 32`."
    }
  }
}

resource "aws_ssm_parameter" "class_sizes" {
  #checkov:skip=CKV2_AWS_34:Class sizes (cpu, memory, spot, architecture) are configuration, not secrets; String keeps them readable by the operator CLI.
  name        = "/ecsrunner/${var.name}/class-sizes"
  description = "Runner classes of ecsrunner ${var.name} and the default class (JSON)"
  type        = "String"
  value       = local.class_sizes_document
  tags        = var.tags
}
