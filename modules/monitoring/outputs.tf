output "dashboard_name" {
  description = "Name of the CloudWatch dashboard (<name>-<region>: dashboards are global to the account); null when enable_dashboard = false."
  value       = one(aws_cloudwatch_dashboard.this[*].dashboard_name)
}

output "dashboard_arn" {
  description = "ARN of the CloudWatch dashboard; null when enable_dashboard = false."
  value       = one(aws_cloudwatch_dashboard.this[*].dashboard_arn)
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms by purpose: dead_letter_queue_<queue key>, control_plane_errors, runners_failed, jobs_queued_too_long, image_rebuilds_failed; {} when enable_alarms = false."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms by purpose (same keys as alarm_names)."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.arn }
}

output "alarm_actions" {
  description = "Actions (alarm and OK) every alarm notifies: the SNS topic, or none."
  value       = local.alarm_actions
}
