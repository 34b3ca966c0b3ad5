variable "name" {
  description = "Deployment name: prefix of the cluster, roles, repository, log group and task family."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "KMS key encrypting the runner log group and the ECR repository, and protecting the JIT environment files the execution role reads."
  type        = string
}

variable "jit_bucket_arn" {
  description = "ARN of the bucket holding JIT environment files (jit/<runner>.env); only the execution role may read them."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the runner log group, in days."
  type        = number
  default     = 30
}

variable "enable_container_insights" {
  description = "Turn on CloudWatch Container Insights for the cluster."
  type        = bool
  default     = true
}

variable "runner_task_role_policy_arns" {
  description = "IAM policy ARNs attached to the task role, i.e. the AWS permissions job code gets. Empty: none."
  type        = list(string)
  default     = []
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary set on the execution and task roles, or null."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Delete the ECR repository even if it holds images (sandboxes and tests)."
  type        = bool
  default     = false
}

variable "untagged_image_expiry_days" {
  description = "Days after which untagged images in the runner repository expire."
  type        = number
  default     = 1
}

variable "rebuilt_image_expiry_days" {
  description = "Days after their push at which scheduled rebuilds (tags starting with rebuilt_image_tag_prefix) expire; null keeps them."
  type        = number
  default     = null

  validation {
    condition     = var.rebuilt_image_expiry_days == null ? true : var.rebuilt_image_expiry_days >= 1
    error_message = "rebuilt_image_expiry_days must be at least 1, or null."
  }
}

variable "rebuilt_image_tag_prefix" {
  description = "Tag prefix of scheduled rebuilds (the control plane's REBUILD_TAG_PREFIX); first builds never start with it."
  type        = string
  default     = "_r"
}

variable "task_cpu" {
  description = "Task CPU units of the base task definition (runs override it per class)."
  type        = number
  default     = 1024
}

variable "task_memory" {
  description = "Task memory (MiB) of the base task definition (runs override it per class)."
  type        = number
  default     = 2048
}

variable "container_name" {
  description = "Name of the runner container in the task definition."
  type        = string
  default     = "runner"
}

variable "container_memory_reservation" {
  description = "Soft memory reservation (MiB) of the runner container; at most the smallest class's memory."
  type        = number
  default     = 512
}
