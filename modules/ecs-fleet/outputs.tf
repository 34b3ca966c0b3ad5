output "cluster_arn" {
  description = "ARN of the ECS cluster running the runner tasks."
  value       = aws_ecs_cluster.this.arn
}

output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "execution_role_arn" {
  description = "ARN of the runner tasks' execution role (ECS agent)."
  value       = aws_iam_role.execution.arn
}

output "execution_role_name" {
  description = "Name of the runner tasks' execution role."
  value       = aws_iam_role.execution.name
}

output "task_role_arn" {
  description = "ARN of the runner tasks' task role (job code)."
  value       = aws_iam_role.task.arn
}

output "task_role_name" {
  description = "Name of the runner tasks' task role; attach policies to give jobs AWS access."
  value       = aws_iam_role.task.name
}

output "runner_log_group_name" {
  description = "CloudWatch log group of runner tasks."
  value       = aws_cloudwatch_log_group.runner.name
}

output "runner_log_group_arn" {
  description = "ARN of the runner log group."
  value       = aws_cloudwatch_log_group.runner.arn
}

output "log_group_names" {
  description = "Names of the log groups this module creates, known before they exist (for the KMS key policy)."
  value       = [local.runner_log_group_name]
}

output "ecr_repository_url" {
  description = "URL of the runner image repository."
  value       = aws_ecr_repository.runner.repository_url
}

output "ecr_repository_arn" {
  description = "ARN of the runner image repository."
  value       = aws_ecr_repository.runner.arn
}

output "ecr_repository_name" {
  description = "Name of the runner image repository."
  value       = aws_ecr_repository.runner.name
}

output "base_task_definition_arn" {
  description = "ARN (with revision) of the base task definition the control plane copies per image."
  value       = aws_ecs_task_definition.runner.arn
}

output "task_definition_family" {
  description = "Family of the base task definition; per-image copies use families starting with it."
  value       = local.task_family
}

output "container_name" {
  description = "Name of the runner container."
  value       = var.container_name
}

output "ecr_lifecycle_policy" {
  description = "Lifecycle policy (JSON) of the runner repository: untagged images and, with image rebuilds on, old rebuild tags expire."
  value       = aws_ecr_lifecycle_policy.runner.policy
}
