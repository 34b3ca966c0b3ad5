variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "github_repo" {
  description = "Repository the runners serve (owner/repo)."
  type        = string
}

variable "github_pat" {
  description = "Personal access token with Administration read/write on the repository."
  type        = string
  sensitive   = true
}

variable "webhook_secret" {
  description = "Secret to configure on the GitHub webhook."
  type        = string
  sensitive   = true
}

variable "subnet_ids" {
  description = "Private subnets (with a NAT gateway) for runner tasks."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups for runner tasks (outbound HTTPS)."
  type        = list(string)
}
