output "webhook_url" {
  description = "Payload URL for the GitHub webhook."
  value       = module.ecsrunner.webhook_url
}
