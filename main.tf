# Checked before anything is planned, both at once: a configuration using the module from a git or
# registry source has no dist/ in the module's directory and must pass the release artefacts.
data "aws_caller_identity" "current" {
  lifecycle {
    precondition {
      condition     = fileexists(local.lambda_zip_path)
      error_message = "No Lambda package at ${local.lambda_zip_path}. With the module from a git or registry source, set lambda_zip_path to the release's ecsrunner-<version>-lambda-${var.lambda_runtime}-${var.lambda_architecture}.zip (`make dist` in an ecsrunner checkout builds it); with a local checkout as the source, run `make build LAMBDA_ARCH=${var.lambda_architecture}` there."
    }

    precondition {
      condition     = !var.enable_image_build || fileexists(local.runner_context_zip_path)
      error_message = "No runner build context at ${local.runner_context_zip_path}. With the module from a git or registry source, set runner_context_zip_path to the release's ecsrunner-<version>-runner-context.zip (`make dist` in an ecsrunner checkout builds it), or set enable_image_build = false; with a local checkout as the source, run `make build` there."
    }
  }
}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # provider 6.x renamed the region attribute from `name` to `region`; reading whichever exists
  # keeps the module free of deprecation warnings on 5.x and 6.x.
  region = coalesce(lookup(data.aws_region.current, "region", null), lookup(data.aws_region.current, "name", null))
  tags   = merge(var.tags, { "ecsrunner:deployment" = var.name })

  kms_key_arn = var.kms_key_arn != null ? var.kms_key_arn : aws_kms_key.this[0].arn

  lambda_zip_path         = coalesce(var.lambda_zip_path, "${path.module}/dist/lambda.zip")
  runner_context_zip_path = coalesce(var.runner_context_zip_path, "${path.module}/dist/runner-context.zip")
  build_context_digest    = fileexists(local.runner_context_zip_path) ? filesha256(local.runner_context_zip_path) : "none"
  # Scheduled image rebuilds (docs/DESIGN.md, "Image rebuilds"): only with image builds on.
  image_rebuild_schedule = var.enable_image_build && var.image_rebuild_schedule != null && var.image_rebuild_schedule != "" ? var.image_rebuild_schedule : null

  # Secret value of the GitHub credentials secret (docs/DESIGN.md); sensitive like its inputs.
  github_credentials_json = var.github_pat != null ? jsonencode({
    type  = "pat"
    token = var.github_pat
    }) : jsonencode({
    type            = "app"
    app_id          = var.github_app.id
    installation_id = var.github_app.installation_id
    private_key     = var.github_app.private_key
  })

  log_group_names = concat(
    module.ecs_fleet.log_group_names,
    module.control_plane.log_group_names,
    var.enable_image_build ? module.image_build[0].log_group_names : [],
  )
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:Key policy: "*" is this key, and the account-root statement is AWS's default that lets IAM policies grant use of the key.
  #checkov:skip=CKV_AWS_111:Key policy: "*" is this key; service principals are limited to our log groups and EventBridge rules by conditions.
  #checkov:skip=CKV_AWS_356:In a key policy the only valid resource is "*" (the key itself).
  statement {
    sid       = "AccountAdministersKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsForOurLogGroups"
    actions   = ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [for log_group in local.log_group_names : "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${log_group}"]
    }
  }

  statement {
    sid       = "EventBridgeDeadLettersFromOurRules"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = module.control_plane.planned_event_rule_arns
    }
  }
}

resource "aws_kms_key" "this" {
  count                   = var.kms_key_arn == null ? 1 : 0
  description             = "ecsrunner ${var.name}: runner table, secrets, JIT files, images, logs, queues"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = local.tags
}

resource "aws_kms_alias" "this" {
  count         = var.kms_key_arn == null ? 1 : 0
  name          = "alias/ecsrunner/${var.name}"
  target_key_id = aws_kms_key.this[0].key_id
}

module "ecs_fleet" {
  source = "./modules/ecs-fleet"

  name                         = var.name
  tags                         = local.tags
  kms_key_arn                  = local.kms_key_arn
  jit_bucket_arn               = module.control_plane.jit_bucket_arn
  log_retention_days           = var.log_retention_days
  enable_container_insights    = var.enable_container_insights
  runner_task_role_policy_arns = var.runner_task_role_policy_arns
  permissions_boundary_arn     = var.iam_permissions_boundary_arn
  force_destroy                = var.force_destroy
  rebuilt_image_expiry_days    = local.image_rebuild_schedule != null ? var.image_rebuild_retention_days : null
}

module "image_build" {
  source = "./modules/image-build"
  count  = var.enable_image_build ? 1 : 0

  name                     = var.name
  tags                     = local.tags
  kms_key_arn              = local.kms_key_arn
  log_retention_days       = var.log_retention_days
  force_destroy            = var.force_destroy
  permissions_boundary_arn = var.iam_permissions_boundary_arn
  runner_context_zip_path  = local.runner_context_zip_path
  ecr_repository_url       = module.ecs_fleet.ecr_repository_url
  ecr_repository_arn       = module.ecs_fleet.ecr_repository_arn
  enable_soci              = var.enable_soci
  compute_type             = var.image_build_compute_type
  build_timeout_minutes    = var.image_build_timeout_minutes
  role_policy_arns         = var.image_build_role_policy_arns
}

module "control_plane" {
  source = "./modules/control-plane"

  name                             = var.name
  tags                             = local.tags
  kms_key_arn                      = local.kms_key_arn
  log_retention_days               = var.log_retention_days
  force_destroy                    = var.force_destroy
  runner_table_deletion_protection = var.runner_table_deletion_protection
  secret_recovery_window_days      = var.secret_recovery_window_days
  permissions_boundary_arn         = var.iam_permissions_boundary_arn

  github_repo             = var.github_repo
  github_org              = var.github_org
  github_api_url          = var.github_api_url
  github_credentials_json = local.github_credentials_json
  webhook_secret          = var.webhook_secret

  runner_class_sizes = var.runner_class_sizes
  default_class      = var.default_class

  lambda_zip_path           = local.lambda_zip_path
  lambda_runtime            = var.lambda_runtime
  lambda_architecture       = var.lambda_architecture
  log_level                 = var.lambda_log_level
  control_plane_memory_size = var.control_plane_memory_size
  janitor_memory_size       = var.janitor_memory_size

  cluster_arn              = module.ecs_fleet.cluster_arn
  cluster_name             = module.ecs_fleet.cluster_name
  subnet_ids               = var.subnet_ids
  security_group_ids       = var.security_groups
  assign_public_ip         = var.assign_public_ip
  base_task_definition_arn = module.ecs_fleet.base_task_definition_arn
  task_definition_family   = module.ecs_fleet.task_definition_family
  execution_role_arn       = module.ecs_fleet.execution_role_arn
  task_role_arn            = module.ecs_fleet.task_role_arn
  runner_log_group_name    = module.ecs_fleet.runner_log_group_name
  container_name           = module.ecs_fleet.container_name
  ecr_repository_url       = module.ecs_fleet.ecr_repository_url
  ecr_repository_arn       = module.ecs_fleet.ecr_repository_arn

  enable_image_build     = var.enable_image_build
  codebuild_project_name = one(module.image_build[*].project_name)
  codebuild_project_arn  = one(module.image_build[*].project_arn)
  build_context_digest   = local.build_context_digest

  runner_group_id                 = var.runner_group_id
  runner_extra_labels             = var.runner_extra_labels
  max_runners                     = var.max_runners
  runner_ttl_seconds              = var.runner_ttl_seconds
  starting_timeout_seconds        = var.starting_timeout_seconds
  image_creating_timeout_seconds  = var.image_creating_timeout_seconds
  waiting_for_job_timeout_seconds = var.waiting_for_job_timeout_seconds
  record_retention_days           = var.record_retention_days
  max_launch_attempts             = var.max_launch_attempts
  launch_wait_timeout_seconds     = var.launch_wait_timeout_seconds
  max_job_relaunches              = var.max_job_relaunches
  launch_concurrency              = var.launch_concurrency
  reconcile_with_github           = var.reconcile_with_github
  reconcile_github_requests       = var.reconcile_github_requests
  webhook_hook_id                 = var.webhook_hook_id
  webhook_app_hook                = var.webhook_app_hook
  queued_too_long_seconds         = var.queued_too_long_seconds
  warm_pools                      = var.warm_pools
  default_base_image              = var.default_base_image
  allowed_base_images             = var.allowed_base_images
  janitor_schedule_expression     = var.janitor_schedule_expression
  image_rebuild_schedule          = local.image_rebuild_schedule
  webhook_throttling_burst_limit  = var.webhook_throttling_burst_limit
  webhook_throttling_rate_limit   = var.webhook_throttling_rate_limit
}

module "monitoring" {
  source = "./modules/monitoring"

  name                        = var.name
  tags                        = local.tags
  region                      = local.region
  metrics_namespace           = module.control_plane.lambda_environment["POWERTOOLS_METRICS_NAMESPACE"]
  metrics_service             = module.control_plane.lambda_environment["POWERTOOLS_SERVICE_NAME"]
  control_plane_function_name = module.control_plane.control_plane_function_name
  janitor_function_name       = module.control_plane.janitor_function_name
  api_id                      = module.control_plane.api_id
  api_stage_name              = module.control_plane.api_stage_name
  dead_letter_queue_names     = { event_failures = module.control_plane.dead_letter_queue_name }
  enable_dashboard            = var.enable_dashboard
  enable_alarms               = var.enable_alarms
  alarm_sns_topic_arn         = var.alarm_sns_topic_arn
}
