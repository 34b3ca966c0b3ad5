# Every output of the root module, passed through, plus the sandbox's own network.

output "webhook_url" {
  description = "Payload URL for the GitHub webhook (full URL, ending in /webhook)."
  value       = module.ecsrunner.webhook_url
}

output "runner_table_name" {
  description = "DynamoDB table of runners, jobs, images and the capacity counter."
  value       = module.ecsrunner.runner_table_name
}

output "class_sizes_parameter_name" {
  description = "SSM parameter holding the runner classes (JSON)."
  value       = module.ecsrunner.class_sizes_parameter_name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster running the runners."
  value       = module.ecsrunner.cluster_arn
}

output "ecr_repository_url" {
  description = "Runner image repository (derived images are pushed here)."
  value       = module.ecsrunner.ecr_repository_url
}

output "control_plane_function_name" {
  description = "Control-plane Lambda function (webhooks, ECS and CodeBuild events)."
  value       = module.ecsrunner.control_plane_function_name
}

output "janitor_function_name" {
  description = "Janitor Lambda function (scheduled clean-up)."
  value       = module.ecsrunner.janitor_function_name
}

output "webhook_secret_arn" {
  description = "Secrets Manager secret holding the webhook secret (the ARN only)."
  value       = module.ecsrunner.webhook_secret_arn
}

output "github_credentials_secret_arn" {
  description = "Secrets Manager secret holding the GitHub credentials (the ARN only)."
  value       = module.ecsrunner.github_credentials_secret_arn
}

output "jit_bucket_name" {
  description = "Private bucket of JIT environment files."
  value       = module.ecsrunner.jit_bucket_name
}

output "codebuild_project_name" {
  description = "CodeBuild project building runner images; null when enable_image_build = false."
  value       = module.ecsrunner.codebuild_project_name
}

output "base_task_definition_arn" {
  description = "Base task definition (with revision) the control plane copies per image."
  value       = module.ecsrunner.base_task_definition_arn
}

output "runner_log_group_name" {
  description = "Log group of runner tasks."
  value       = module.ecsrunner.runner_log_group_name
}

output "control_plane_log_group_name" {
  description = "Log group of the control-plane function."
  value       = module.ecsrunner.control_plane_log_group_name
}

output "janitor_log_group_name" {
  description = "Log group of the janitor function."
  value       = module.ecsrunner.janitor_log_group_name
}

output "kms_key_arn" {
  description = "KMS key encrypting the deployment's data (created or the one passed in)."
  value       = module.ecsrunner.kms_key_arn
}

output "kms_key_policy_json" {
  description = "Key policy the module gives the key it creates; a key passed as kms_key_arn needs equivalent statements for CloudWatch Logs and EventBridge."
  value       = module.ecsrunner.kms_key_policy_json
}

output "execution_role_arn" {
  description = "Execution role of runner tasks (ECS agent: image pull, logs, JIT file)."
  value       = module.ecsrunner.execution_role_arn
}

output "task_role_arn" {
  description = "Task role of runner tasks (job code); no permissions unless runner_task_role_policy_arns."
  value       = module.ecsrunner.task_role_arn
}

output "task_role_name" {
  description = "Name of the runner task role, to attach further policies outside the module."
  value       = module.ecsrunner.task_role_name
}

output "dead_letter_queue_url" {
  description = "SQS queue collecting undeliverable events and failed async invocations; alarm on its depth."
  value       = module.ecsrunner.dead_letter_queue_url
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue (for CloudWatch alarms on its depth)."
  value       = module.ecsrunner.dead_letter_queue_name
}

output "cli_environment" {
  description = "Environment for the operator CLI (python -m ecsrunner): the functions' settings plus AWS_REGION."
  value       = module.ecsrunner.cli_environment
}

output "aws_endpoint_url" {
  description = "moto endpoint the deployment lives in."
  value       = var.aws_endpoint_url
}

output "region" {
  description = "Region of the sandbox."
  value       = var.region
}

output "vpc_id" {
  description = "Sandbox VPC."
  value       = aws_vpc.sandbox.id
}

output "subnet_id" {
  description = "Sandbox subnet of runner tasks."
  value       = aws_subnet.sandbox.id
}

output "security_group_id" {
  description = "Security group of runner tasks."
  value       = aws_security_group.runners.id
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the deployment, named <name>-<region> (dashboards are global to the account); null when enable_dashboard = false."
  value       = module.ecsrunner.dashboard_name
}

output "alarm_names" {
  description = "CloudWatch alarm names by purpose (map): dead_letter_queue_event_failures, control_plane_errors, runners_failed, jobs_queued_too_long, image_rebuilds_failed; {} when enable_alarms = false."
  value       = module.ecsrunner.alarm_names
}

output "alarm_topic_arn" {
  description = "SNS topic the module's alarms notify."
  value       = aws_sns_topic.alarms.arn
}
