variable "aws_endpoint_url" {
  description = "Endpoint of the moto server standing in for every AWS service."
  type        = string
  default     = "http://127.0.0.1:5000"
}

variable "region" {
  description = "Region the sandbox pretends to be in."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Deployment name (resource prefix)."
  type        = string
  default     = "ecsrunner-sandbox"
}

variable "github_repo" {
  description = "Repository (owner/repo) the sandbox runners serve."
  type        = string
  default     = "octo-org/octo-repo"
}

variable "github_pat" {
  description = "Token the Lambdas present to the GitHub stand-in (fake)."
  type        = string
  default     = "sandbox-fake-token"
  sensitive   = true
}

variable "github_api_url" {
  description = "GitHub API the Lambdas call: the local GitHub stand-in."
  type        = string
  default     = "http://127.0.0.1:8080"
}

variable "webhook_secret" {
  description = "Webhook secret shared with the GitHub stand-in (fake)."
  type        = string
  default     = "sandbox-webhook-secret-0123456789"
  sensitive   = true
}

variable "runner_class_sizes" {
  description = "Runner classes (see the root module)."
  type = map(object({
    cpu                   = number
    memory                = number
    spot                  = optional(bool, false)
    architecture          = optional(string, "x86_64")
    ephemeral_storage_gib = optional(number)
  }))
  default = {
    small  = { cpu = 512, memory = 1024 }
    medium = { cpu = 1024, memory = 4096 }
    large  = { cpu = 4096, memory = 16384 }
    arm    = { cpu = 1024, memory = 2048, architecture = "arm64" }
    spot   = { cpu = 1024, memory = 2048, spot = true }
  }
}

variable "default_class" {
  description = "Class of jobs without a class: label."
  type        = string
  default     = "medium"
}

variable "max_runners" {
  description = "Maximum concurrent runners (0 = unlimited)."
  type        = number
  default     = 0
}

variable "runner_ttl_seconds" {
  description = "Hard lifetime of a runner task, in seconds."
  type        = number
  default     = 7200
}

variable "janitor_schedule_expression" {
  description = "Janitor schedule."
  type        = string
  default     = "rate(5 minutes)"
}

variable "enable_image_build" {
  description = "Create the CodeBuild image build."
  type        = bool
  default     = true
}

variable "lambda_zip_path" {
  description = "Lambda package built by `make build`."
  type        = string
  default     = "../../dist/lambda.zip"
}

variable "runner_context_zip_path" {
  description = "runner/ build context built by `make build`."
  type        = string
  default     = "../../dist/runner-context.zip"
}

variable "warm_pools" {
  description = "Warm pools, passed to the root module as they are (it types and validates them); `make demo` sets one, everything else keeps none."
  type        = any
  default     = {}
}
