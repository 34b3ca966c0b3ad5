output "webhook_url" {
  description = "Payload URL for the GitHub webhook (full URL, ending in /webhook)."
  value       = module.control_plane.webhook_url
}

output "runner_table_name" {
  description = "DynamoDB table of runners, jobs, images and the capacity counter."
  value       = module.control_plane.runner_table_name
}

output "class_sizes_parameter_name" {
  description = "SSM parameter holding the runner classes (JSON)."
  value       = module.control_plane.class_sizes_parameter_name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster running the runners."
  value       = module.ecs_fleet.cluster_arn
}

output "ecr_repository_url" {
  description = "Runner image repository (derived images are pushed here)."
  value       = module.ecs_fleet.ecr_repository_url
}

output "control_plane_function_name" {
  description = "Control-plane Lambda function (webhooks, ECS and CodeBuild events)."
  value       = module.control_plane.control_plane_function_name
}

output "janitor_function_name" {
  description = "Janitor Lambda function (scheduled clean-up)."
  value       = module.control_plane.janitor_function_name
}

output "webhook_secret_arn" {
  description = "Secrets Manager secret holding the webhook secret (the ARN only)."
  value       = module.control_plane.webhook_secret_arn
}

output "github_credentials_secret_arn" {
  description = "Secrets Manager secret holding the GitHub credentials (the ARN only)."
  value       = module.control_plane.github_credentials_secret_arn
}

output "jit_bucket_name" {
  description = "Private bucket of JIT environment files."
  value       = module.control_plane.jit_bucket_name
}

output "codebuild_project_name" {
  description = "CodeBuild project building runner images; null when enable_image_build = false."
  value       = one(module.image_build[*].project_name)
}

output "base_task_definition_arn" {
  description = "Base task definition (with revision) the control plane copies per image."
  value       = module.ecs_fleet.base_task_definition_arn
}

output "runner_log_group_name" {
  description = "Log group of runner tasks."
  value       = module.ecs_fleet.runner_log_group_name
}

output "control_plane_log_group_name" {
  description = "Log group of the control-plane function."
  value       = module.control_plane.control_plane_log_group_name
}

output "janitor_log_group_name" {
  description = "Log group of the janitor function."
  value       = module.control_plane.janitor_log_group_name
}

output "kms_key_arn" {
  description = "KMS key encrypting the deployment's data (created or the one passed in)."
  value       = local.kms_key_arn
}

output "kms_key_policy_json" {
  description = "Key policy the module gives the key it creates; a key passed as kms_key_arn needs equivalent statements for CloudWatch Logs and EventBridge."
  value       = data.aws_iam_policy_document.kms.json
}

output "execution_role_arn" {
  description = "Execution role of runner tasks (ECS agent: image pull, logs, JIT file)."
  value       = module.ecs_fleet.execution_role_arn
}

output "task_role_arn" {
  description = "Task role of runner tasks (job code); no permissions unless runner_task_role_policy_arns."
  value       = module.ecs_fleet.task_role_arn
}

output "task_role_name" {
  description = "Name of the runner task role, to attach further policies outside the module."
  value       = module.ecs_fleet.task_role_name
}

output "dead_letter_queue_url" {
  description = "SQS queue collecting undeliverable events and failed async invocations; alarm on its depth."
  value       = module.control_plane.dead_letter_queue_url
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue (for CloudWatch alarms on its depth)."
  value       = module.control_plane.dead_letter_queue_name
}

output "cli_environment" {
  description = "Environment for the operator CLI (python -m ecsrunner): the functions' settings plus AWS_REGION."
  value       = merge(module.control_plane.lambda_environment, { AWS_REGION = local.region })
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the deployment, named <name>-<region> (dashboards are global to the account); null when enable_dashboard = false."
  value       = module.monitoring.dashboard_name
}

output "alarm_names" {
  description = "CloudWatch alarm names by purpose (map): dead_letter_queue_event_failures, control_plane_errors, runners_failed, jobs_queued_too_long, image_rebuilds_failed; {} when enable_alarms = false."
  value       = module.monitoring.alarm_names
}
