output "webhook_url" {
  description = "Webhook URL of the GitHub App."
  value       = module.ecsrunner.webhook_url
}

output "cli_environment" {
  description = "Environment for the operator CLI."
  value       = module.ecsrunner.cli_environment
}

output "ecr_repository_url" {
  description = "Runner image repository."
  value       = module.ecsrunner.ecr_repository_url
}

output "task_role_name" {
  description = "Task role of runner jobs, to attach more policies."
  value       = module.ecsrunner.task_role_name
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the deployment."
  value       = module.ecsrunner.dashboard_name
}

output "alarm_names" {
  description = "CloudWatch alarms of the deployment, by purpose."
  value       = module.ecsrunner.alarm_names
}
