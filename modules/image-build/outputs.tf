output "project_name" {
  description = "Name of the CodeBuild project."
  value       = aws_codebuild_project.this.name
}

output "project_arn" {
  description = "ARN of the CodeBuild project."
  value       = aws_codebuild_project.this.arn
}

output "role_arn" {
  description = "ARN of the CodeBuild role."
  value       = aws_iam_role.build.arn
}

output "source_bucket_name" {
  description = "Bucket holding the build context."
  value       = aws_s3_bucket.context.id
}

output "source_object_key" {
  description = "Key of the build context object."
  value       = aws_s3_object.context.key
}

output "log_group_name" {
  description = "Log group of the builds."
  value       = aws_cloudwatch_log_group.build.name
}

output "log_group_names" {
  description = "Names of the log groups this module creates, known before they exist (for the KMS key policy)."
  value       = [local.log_group_name]
}
