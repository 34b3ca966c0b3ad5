output "webhook_url" {
  description = "Full webhook URL to configure in GitHub (ends in /webhook)."
  value       = "${trimsuffix(aws_apigatewayv2_stage.default.invoke_url, "/")}/webhook"
}

output "api_id" {
  description = "ID of the HTTP API."
  value       = aws_apigatewayv2_api.webhook.id
}

output "api_stage_name" {
  description = "Stage of the HTTP API ($default), the Stage dimension of its CloudWatch metrics."
  value       = aws_apigatewayv2_stage.default.name
}

output "webhook_throttling" {
  description = "Throttling of the webhook route: burst_limit (requests at once) and rate_limit (requests per second)."
  value = {
    burst_limit = one(aws_apigatewayv2_stage.default.default_route_settings[*].throttling_burst_limit)
    rate_limit  = one(aws_apigatewayv2_stage.default.default_route_settings[*].throttling_rate_limit)
  }
}

output "runner_table_name" {
  description = "Name of the DynamoDB runner table."
  value       = aws_dynamodb_table.runners.name
}

output "runner_table_arn" {
  description = "ARN of the DynamoDB runner table."
  value       = aws_dynamodb_table.runners.arn
}

output "class_sizes_parameter_name" {
  description = "SSM parameter holding the class sizes JSON."
  value       = aws_ssm_parameter.class_sizes.name
}

output "jit_bucket_name" {
  description = "Bucket of JIT environment files."
  value       = aws_s3_bucket.jit.id
}

output "jit_bucket_arn" {
  description = "ARN of the JIT bucket."
  value       = aws_s3_bucket.jit.arn
}

output "github_credentials_secret_arn" {
  description = "ARN of the GitHub credentials secret."
  value       = aws_secretsmanager_secret.github_credentials.arn
}

output "webhook_secret_arn" {
  description = "ARN of the webhook secret."
  value       = aws_secretsmanager_secret.webhook.arn
}

output "control_plane_function_name" {
  description = "Name of the control-plane function."
  value       = aws_lambda_function.this["control_plane"].function_name
}

output "control_plane_function_arn" {
  description = "ARN of the control-plane function."
  value       = aws_lambda_function.this["control_plane"].arn
}

output "janitor_function_name" {
  description = "Name of the janitor function."
  value       = aws_lambda_function.this["janitor"].function_name
}

output "janitor_function_arn" {
  description = "ARN of the janitor function."
  value       = aws_lambda_function.this["janitor"].arn
}

output "control_plane_role_arn" {
  description = "ARN of the control-plane function's role."
  value       = aws_iam_role.function["control_plane"].arn
}

output "janitor_role_arn" {
  description = "ARN of the janitor function's role."
  value       = aws_iam_role.function["janitor"].arn
}

output "control_plane_log_group_name" {
  description = "Log group of the control-plane function."
  value       = aws_cloudwatch_log_group.function["control_plane"].name
}

output "janitor_log_group_name" {
  description = "Log group of the janitor function."
  value       = aws_cloudwatch_log_group.function["janitor"].name
}

output "webhook_access_log_group_name" {
  description = "Access log group of the webhook API."
  value       = aws_cloudwatch_log_group.webhook_access.name
}

output "dead_letter_queue_url" {
  description = "SQS queue of undeliverable events and failed async invocations."
  value       = aws_sqs_queue.dead_letters.id
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dead_letters.name
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dead_letters.arn
}

output "event_rule_arns" {
  description = "ARNs of the EventBridge rules by purpose."
  value       = { for key, rule in aws_cloudwatch_event_rule.this : key => rule.arn }
}

output "lambda_environment" {
  description = "Environment of both functions (names and ARNs only)."
  value       = local.environment
}

output "log_group_names" {
  description = "Names of the log groups this module creates, known before they exist (for the KMS key policy)."
  value       = values(local.log_group_names)
}

output "planned_event_rule_arns" {
  description = "ARNs of the EventBridge rules, known before they exist (for the KMS key policy)."
  value       = values(local.rule_arns)
}
