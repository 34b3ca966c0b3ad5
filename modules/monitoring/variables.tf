variable "name" {
  description = "Deployment name: prefix of the alarm names and of the dashboard name."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource (alarms; CloudWatch dashboards take no tags)."
  type        = map(string)
  default     = {}
}

variable "region" {
  description = "Region of the deployment: the dashboard's widgets read metrics there, and the dashboard name carries it (dashboards are global to the account)."
  type        = string
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' EMF metrics (their POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
}

variable "metrics_service" {
  description = "Value of the `service` dimension Powertools adds to every metric of the functions (their POWERTOOLS_SERVICE_NAME); it tells deployments sharing the namespace apart."
  type        = string
}

variable "control_plane_function_name" {
  description = "Name of the control-plane Lambda function."
  type        = string
}

variable "janitor_function_name" {
  description = "Name of the janitor Lambda function."
  type        = string
}

variable "api_id" {
  description = "ID of the webhook HTTP API (AWS/ApiGateway ApiId dimension)."
  type        = string
}

variable "api_stage_name" {
  description = "Stage of the webhook HTTP API (AWS/ApiGateway Stage dimension), e.g. $default."
  type        = string
  default     = "$default"
}

variable "dead_letter_queue_names" {
  description = "SQS dead-letter queues to watch, by purpose (key) and queue name (value); each gets an alarm on its depth."
  type        = map(string)
}

variable "enable_dashboard" {
  description = "Create the CloudWatch dashboard."
  type        = bool
  default     = true
}

variable "enable_alarms" {
  description = "Create the CloudWatch alarms."
  type        = bool
  default     = true
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic notified when an alarm fires and when it recovers (alarm and OK actions); null = alarms without actions."
  type        = string
  default     = null
}

variable "period_seconds" {
  description = "Period of the dashboard's graphs and of the alarms, in seconds (a multiple of 60)."
  type        = number
  default     = 300

  validation {
    condition     = var.period_seconds >= 60 && var.period_seconds % 60 == 0
    error_message = "period_seconds must be a multiple of 60, at least 60."
  }
}
