variable "name" {
  description = "Deployment name: prefix of every resource and of runner names."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "KMS key for the table, secrets, JIT bucket, log groups, dead-letter queue and Lambda environment."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the function and access log groups, in days."
  type        = number
  default     = 30
}

variable "force_destroy" {
  description = "Let destroy delete the JIT bucket with objects in it (sandboxes and tests)."
  type        = bool
  default     = false
}

variable "runner_table_deletion_protection" {
  description = "DynamoDB deletion protection on the runner table."
  type        = bool
  default     = true
}

variable "secret_recovery_window_days" {
  description = "Days a destroyed secret stays recoverable (0 deletes at once)."
  type        = number
  default     = 7
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary set on the function roles, or null."
  type        = string
  default     = null
}

variable "github_repo" {
  description = "Repository (owner/repo) the runners serve, or null when github_org is set."
  type        = string
  default     = null
}

variable "github_org" {
  description = "Organization the runners serve, or null when github_repo is set."
  type        = string
  default     = null
}

variable "github_api_url" {
  description = "GitHub REST API base URL."
  type        = string
  default     = "https://api.github.com"
}

variable "github_credentials_json" {
  description = "GitHub credentials secret value (JSON, see docs/DESIGN.md)."
  type        = string
  sensitive   = true
}

variable "webhook_secret" {
  description = "Secret GitHub signs webhook deliveries with."
  type        = string
  sensitive   = true
}

variable "runner_class_sizes" {
  description = "Runner classes (validated by the root module)."
  type = map(object({
    cpu                   = number
    memory                = number
    spot                  = bool
    architecture          = string
    ephemeral_storage_gib = number
  }))
}

variable "default_class" {
  description = "Class of jobs without a class: label."
  type        = string
}

variable "lambda_zip_path" {
  description = "Path of the Lambda package (dist/lambda.zip from `make build`)."
  type        = string
}

variable "lambda_runtime" {
  description = "Lambda runtime of both functions."
  type        = string
  default     = "python3.13"
}

variable "lambda_architecture" {
  description = "Lambda architecture of both functions: x86_64 or arm64."
  type        = string
  default     = "x86_64"
}

variable "control_plane_memory_size" {
  description = "Memory (MiB) of the control-plane function."
  type        = number
  default     = 512
}

variable "control_plane_timeout" {
  description = "Timeout (seconds) of the control-plane function; the webhook integration waits at most 30."
  type        = number
  default     = 30
}

variable "janitor_memory_size" {
  description = "Memory (MiB) of the janitor function."
  type        = number
  default     = 512
}

variable "janitor_timeout" {
  description = "Timeout (seconds) of the janitor function."
  type        = number
  default     = 300
}

variable "log_level" {
  description = "Log level of both functions (POWERTOOLS_LOG_LEVEL)."
  type        = string
  default     = "INFO"
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster runner tasks run in."
  type        = string
}

variable "cluster_name" {
  description = "Name of the ECS cluster runner tasks run in."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of runner tasks."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of runner tasks."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "Give runner tasks a public IP."
  type        = bool
  default     = false
}

variable "base_task_definition_arn" {
  description = "Base task definition the control plane copies per image."
  type        = string
}

variable "task_definition_family" {
  description = "Family of the base task definition; the functions may run and register families starting with it."
  type        = string
}

variable "execution_role_arn" {
  description = "Execution role of runner tasks (passed to ECS)."
  type        = string
}

variable "task_role_arn" {
  description = "Task role of runner tasks (passed to ECS)."
  type        = string
}

variable "runner_log_group_name" {
  description = "Log group of runner tasks."
  type        = string
}

variable "container_name" {
  description = "Runner container name in the task definition."
  type        = string
  default     = "runner"
}

variable "ecr_repository_url" {
  description = "URL of the runner image repository."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ARN of the runner image repository."
  type        = string
}

variable "enable_image_build" {
  description = "Whether the image-build module exists (CodeBuild rule, StartBuild permission)."
  type        = bool
  default     = true
}

variable "codebuild_project_name" {
  description = "CodeBuild project building runner images, or null when image builds are off."
  type        = string
  default     = null
}

variable "codebuild_project_arn" {
  description = "ARN of the CodeBuild project, or null when image builds are off."
  type        = string
  default     = null
}

variable "build_context_digest" {
  description = "sha256 of the runner build-context zip, part of every derived image tag."
  type        = string
}

variable "runner_group_id" {
  description = "GitHub runner group id of the JIT runners."
  type        = number
  default     = 1
}

variable "runner_extra_labels" {
  description = "Extra labels the fleet serves."
  type        = list(string)
  default     = []
}

variable "max_runners" {
  description = "Maximum concurrent runners (0 = unlimited)."
  type        = number
  default     = 0
}

variable "runner_ttl_seconds" {
  description = "The longest a runner task may live, in seconds, counted from its RunTask."
  type        = number
  default     = 25200
}

variable "starting_timeout_seconds" {
  description = "Seconds a runner may stay STARTING."
  type        = number
  default     = 900
}

variable "image_creating_timeout_seconds" {
  description = "Seconds a runner may wait for its image build."
  type        = number
  default     = 3600
}

variable "waiting_for_job_timeout_seconds" {
  description = "Seconds a running runner may wait for its job."
  type        = number
  default     = 1800
}

variable "record_retention_days" {
  description = "Days terminal runner records stay before DynamoDB TTL removes them."
  type        = number
  default     = 30
}

variable "max_launch_attempts" {
  description = "Launch attempts at full pace; later ones first ask GitHub whether the job is still queued."
  type        = number
  default     = 5
}

variable "launch_wait_timeout_seconds" {
  description = "The longest a runner may wait for its task to start, counted from the job's queued time."
  type        = number
  default     = 86400
}

variable "max_job_relaunches" {
  description = "New runners a job gets when its runners end before taking it."
  type        = number
  default     = 3
}

variable "launch_concurrency" {
  description = "Launches one janitor run makes at once."
  type        = number
  default     = 8
}

variable "reconcile_with_github" {
  description = "Each janitor run gives every job GitHub holds queued without a live runner of ours one."
  type        = bool
  default     = true
}

variable "reconcile_github_requests" {
  description = "GitHub API requests one janitor run may spend on reconciliation."
  type        = number
  default     = 50
}

variable "webhook_hook_id" {
  description = "Id of the repository or organisation webhook whose failed deliveries the janitor redelivers; null: none."
  type        = number
  default     = null
}

variable "webhook_app_hook" {
  description = "The webhook is the GitHub App's own: the janitor redelivers its failed deliveries."
  type        = bool
  default     = false
}

variable "queued_too_long_seconds" {
  description = "Seconds after which a job of ours without a started task counts in JobsQueuedTooLong."
  type        = number
  default     = 900
}

variable "default_base_image" {
  description = "Base image of jobs without image:."
  type        = string
  default     = "ubuntu:22.04"
}

variable "allowed_base_images" {
  description = "Glob patterns of allowed base images (empty = any)."
  type        = list(string)
  default     = []
}

variable "janitor_schedule_expression" {
  description = "EventBridge schedule of the janitor."
  type        = string
  default     = "rate(5 minutes)"
}

variable "image_rebuild_schedule" {
  description = "EventBridge schedule of scheduled image rebuilds (the janitor function rebuilds READY images); null = none. Only with enable_image_build."
  type        = string
  default     = null
}

variable "webhook_throttling_burst_limit" {
  description = "Burst limit of the webhook route (requests at once; see the root module for the sizing)."
  type        = number
  default     = 512
}

variable "webhook_throttling_rate_limit" {
  description = "Steady-state requests per second of the webhook route (see the root module for the sizing)."
  type        = number
  default     = 256
}

variable "warm_pools" {
  description = "Warm pools (see the root module's warm_pools): passed to the functions as WARM_POOLS."
  type = map(object({
    class = string
    size  = number
    image = optional(string)
    schedules = optional(list(object({
      cron     = string
      size     = number
      timezone = optional(string, "UTC")
    })), [])
    max_idle_seconds = optional(number, 14400)
  }))
  default = {}
}
