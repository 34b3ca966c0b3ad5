# The two functions share one package and one environment (docs/DESIGN.md); each has its own role,
# log group and async failure destination.

locals {
  lambda_source_code_hash = fileexists(var.lambda_zip_path) ? filebase64sha256(var.lambda_zip_path) : null

  # Only ARNs and names: no secret is ever in the environment. Optional settings are left out
  # when empty rather than set to "".
  environment = merge(
    {
      ECSRUNNER_NAME                  = var.name
      RUNNER_TABLE                    = aws_dynamodb_table.runners.name
      CLASS_SIZES_PARAM               = aws_ssm_parameter.class_sizes.name
      ECS_CLUSTER_ARN                 = var.cluster_arn
      SUBNET_IDS                      = join(",", var.subnet_ids)
      SECURITY_GROUP_IDS              = join(",", var.security_group_ids)
      ASSIGN_PUBLIC_IP                = tostring(var.assign_public_ip)
      BASE_TASK_DEFINITION_ARN        = var.base_task_definition_arn
      EXECUTION_ROLE_ARN              = var.execution_role_arn
      TASK_ROLE_ARN                   = var.task_role_arn
      RUNNER_LOG_GROUP                = var.runner_log_group_name
      RUNNER_CONTAINER_NAME           = var.container_name
      ECR_REPOSITORY_URL              = var.ecr_repository_url
      JIT_BUCKET                      = aws_s3_bucket.jit.id
      JIT_KMS_KEY_ARN                 = var.kms_key_arn
      GITHUB_API_URL                  = trimsuffix(var.github_api_url, "/")
      GITHUB_CREDENTIALS_SECRET_ARN   = aws_secretsmanager_secret.github_credentials.arn
      WEBHOOK_SECRET_ARN              = aws_secretsmanager_secret.webhook.arn
      RUNNER_GROUP_ID                 = tostring(var.runner_group_id)
      MAX_RUNNERS                     = tostring(var.max_runners)
      RUNNER_TTL_SECONDS              = tostring(var.runner_ttl_seconds)
      STARTING_TIMEOUT_SECONDS        = tostring(var.starting_timeout_seconds)
      IMAGE_CREATING_TIMEOUT_SECONDS  = tostring(var.image_creating_timeout_seconds)
      WAITING_FOR_JOB_TIMEOUT_SECONDS = tostring(var.waiting_for_job_timeout_seconds)
      RECORD_RETENTION_SECONDS        = tostring(var.record_retention_days * 86400)
      MAX_LAUNCH_ATTEMPTS             = tostring(var.max_launch_attempts)
      LAUNCH_WAIT_TIMEOUT_SECONDS     = tostring(var.launch_wait_timeout_seconds)
      MAX_JOB_RELAUNCHES              = tostring(var.max_job_relaunches)
      LAUNCH_CONCURRENCY              = tostring(var.launch_concurrency)
      RECONCILE_WITH_GITHUB           = tostring(var.reconcile_with_github)
      RECONCILE_GITHUB_REQUESTS       = tostring(var.reconcile_github_requests)
      WEBHOOK_APP_HOOK                = tostring(var.webhook_app_hook)
      QUEUED_TOO_LONG_SECONDS         = tostring(var.queued_too_long_seconds)
      JANITOR_FUNCTION_ARN            = local.janitor_function_arn
      WAKEUP_ROLE_ARN                 = aws_iam_role.wakeup.arn
      # {"<pool>": {"class": ..., "size": ..., "image": ..., "schedules": [...], "max_idle_seconds": ...}}
      WARM_POOLS = jsonencode({ for name, pool in var.warm_pools : name => {
        class            = pool.class
        size             = pool.size
        image            = pool.image
        schedules        = [for entry in pool.schedules : { cron = entry.cron, size = entry.size, timezone = entry.timezone }]
        max_idle_seconds = pool.max_idle_seconds
      } })
      ENABLE_IMAGE_BUILD   = tostring(var.enable_image_build)
      BUILD_CONTEXT_DIGEST = var.build_context_digest
      DEFAULT_BASE_IMAGE   = var.default_base_image
      # Every EMF metric carries service = the deployment name as a dimension: deployments sharing
      # the namespace stay apart on dashboards and alarms (modules/monitoring).
      POWERTOOLS_SERVICE_NAME      = var.name
      POWERTOOLS_METRICS_NAMESPACE = "ecsrunner"
      POWERTOOLS_LOG_LEVEL         = var.log_level
    },
    { for key, value in {
      GITHUB_REPO            = var.github_repo
      GITHUB_ORG             = var.github_org
      RUNNER_EXTRA_LABELS    = join(",", var.runner_extra_labels)
      ALLOWED_BASE_IMAGES    = join(",", var.allowed_base_images)
      CODEBUILD_PROJECT_NAME = var.enable_image_build ? var.codebuild_project_name : null
      WEBHOOK_HOOK_ID        = var.webhook_hook_id == null ? null : tostring(var.webhook_hook_id)
    } : key => value if value != null && value != "" },
  )

  functions = {
    control_plane = {
      name        = local.control_plane_function_name
      description = "ecsrunner ${var.name}: GitHub webhooks, ECS task and CodeBuild state changes"
      handler     = "ecsrunner_lambda.control_plane.handler"
      memory_size = var.control_plane_memory_size
      timeout     = var.control_plane_timeout
      max_age     = 3600
      retries     = 2
    }
    janitor = {
      name        = local.janitor_function_name
      description = "ecsrunner ${var.name}: expire stuck runners, stop orphaned tasks, relaunch failed launches"
      handler     = "ecsrunner_lambda.janitor.handler"
      memory_size = var.janitor_memory_size
      timeout     = var.janitor_timeout
      # The next scheduled run supersedes a failed one.
      max_age = 300
      retries = 0
    }
  }
}

resource "aws_cloudwatch_log_group" "function" {
  for_each          = local.functions
  name              = local.log_group_names[each.key]
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_115:Reserved concurrency would serialise webhook bursts; correctness comes from DynamoDB conditional writes and max_runners, not from a concurrency cap.
  #checkov:skip=CKV_AWS_116:Async failures go to the SQS queue through aws_lambda_function_event_invoke_config (on-failure destination), which also keeps the error context.
  #checkov:skip=CKV_AWS_117:The functions call only public endpoints (GitHub, AWS APIs); a VPC would add NAT cost and cold-start latency without narrowing access.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile; the package is built reproducibly by `make build` and its hash pins the deployment.
  #checkov:skip=CKV_AWS_50:X-Ray tracing is off by default (the Powertools Tracer adds cold-start time); logs carry EMF metrics and correlation ids.
  for_each = local.functions

  function_name    = each.value.name
  description      = each.value.description
  role             = aws_iam_role.function[each.key].arn
  handler          = each.value.handler
  runtime          = var.lambda_runtime
  architectures    = [var.lambda_architecture]
  filename         = var.lambda_zip_path
  source_code_hash = local.lambda_source_code_hash
  memory_size      = each.value.memory_size
  timeout          = each.value.timeout
  kms_key_arn      = var.kms_key_arn

  environment {
    variables = local.environment
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.lambda_source_code_hash != null
      error_message = "The Lambda package ${var.lambda_zip_path} does not exist. With the module from a git or registry source, set lambda_zip_path to the release's ecsrunner-<version>-lambda-${var.lambda_runtime}-${var.lambda_architecture}.zip (`make dist` in an ecsrunner checkout builds it); with a local checkout as the source, run `make build LAMBDA_ARCH=${var.lambda_architecture}` there."
    }
  }

  depends_on = [aws_cloudwatch_log_group.function, aws_iam_role_policy.function]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  for_each                     = local.functions
  function_name                = aws_lambda_function.this[each.key].function_name
  maximum_event_age_in_seconds = each.value.max_age
  maximum_retry_attempts       = each.value.retries

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dead_letters.arn
    }
  }
}
