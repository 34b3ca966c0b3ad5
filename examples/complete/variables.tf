variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Deployment name (resource prefix)."
  type        = string
  default     = "ci-runners"
}

variable "github_org" {
  description = "Organization whose jobs the runners take."
  type        = string
}

variable "github_app_id" {
  description = "App ID of the GitHub App (Settings > Developer settings > GitHub Apps)."
  type        = number
}

variable "github_app_installation_id" {
  description = "Installation ID of the App in the organization; null looks it up."
  type        = number
  default     = null
}

variable "github_app_private_key" {
  description = "PEM private key of the GitHub App, e.g. file(\"my-app.private-key.pem\") via a tfvars file."
  type        = string
  sensitive   = true
}

variable "webhook_secret" {
  description = "Secret configured on the App's webhook."
  type        = string
  sensitive   = true
}

variable "vpc_id" {
  description = "VPC of the runner tasks."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets of the runner tasks; they need outbound internet (NAT gateway) or VPC endpoints plus a proxy."
  type        = list(string)
}

variable "max_runners" {
  description = "Maximum concurrent runners."
  type        = number
  default     = 50
}

variable "runner_task_role_policy_arns" {
  description = "Policies giving jobs AWS access (e.g. read an artifact bucket)."
  type        = list(string)
  default     = []
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic the module's alarms notify (dead-letter queue, control-plane errors, failed runners, jobs left queued); null = no notifications."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on every resource (provider default_tags)."
  type        = map(string)
  default     = { Project = "ci-runners" }
}
