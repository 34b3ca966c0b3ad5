variable "name" {
  description = "Deployment name: prefix of the project, role, bucket and log group."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "KMS key encrypting the source bucket and the build log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the build log group, in days."
  type        = number
  default     = 30
}

variable "force_destroy" {
  description = "Let destroy delete the source bucket with its object versions (sandboxes and tests)."
  type        = bool
  default     = false
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary set on the CodeBuild role, or null."
  type        = string
  default     = null
}

variable "runner_context_zip_path" {
  description = "Path of the runner/ build context zip (dist/runner-context.zip from `make build`)."
  type        = string
}

variable "ecr_repository_url" {
  description = "Repository the builds push to (REPOSITORY_URI)."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ARN of the repository the builds push to."
  type        = string
}

variable "enable_soci" {
  description = "Build and push a SOCI index with each image (ENABLE_SOCI) for lazy loading on Fargate."
  type        = bool
  default     = false
}

variable "compute_type" {
  description = "CodeBuild compute type of image builds."
  type        = string
  default     = "BUILD_GENERAL1_MEDIUM"
}

variable "build_image" {
  description = "CodeBuild image of x86_64 builds (arm64 builds override it per build)."
  type        = string
  default     = "aws/codebuild/amazonlinux2-x86_64-standard:5.0"
}

variable "build_timeout_minutes" {
  description = "Build timeout in minutes."
  type        = number
  default     = 60
}

variable "queued_timeout_minutes" {
  description = "Minutes a build may wait in the queue."
  type        = number
  default     = 60
}

variable "role_policy_arns" {
  description = "Extra policies for the CodeBuild role, e.g. pulling base images from private ECR repositories."
  type        = list(string)
  default     = []
}
