# A production-style deployment on real AWS: organization runners authenticated as a GitHub App,
# tasks in private subnets (your VPC, with a NAT gateway or VPC endpoints), custom classes
# including arm64 and Fargate Spot, SOCI-indexed images, and the module's dashboard and alarms
# notifying an SNS topic.

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

resource "aws_security_group" "runners" {
  #checkov:skip=CKV2_AWS_5:Attached to runner tasks by the control plane at RunTask (awsvpc network configuration), not by Terraform.
  name        = "${var.name}-runners"
  description = "ecsrunner ${var.name} runner tasks: outbound web traffic only"
  vpc_id      = var.vpc_id

  egress {
    description = "HTTPS: GitHub, container registries, AWS APIs"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "HTTP: distribution package mirrors used by jobs (apt, yum)"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

module "ecsrunner" {
  source = "../.."

  name       = var.name
  github_org = var.github_org
  github_app = {
    id              = var.github_app_id
    installation_id = var.github_app_installation_id
    private_key     = var.github_app_private_key
  }
  webhook_secret = var.webhook_secret

  subnet_ids       = var.private_subnet_ids
  security_groups  = [aws_security_group.runners.id]
  assign_public_ip = false

  runner_class_sizes = {
    small          = { cpu = 512, memory = 1024 }
    medium         = { cpu = 1024, memory = 4096 }
    large          = { cpu = 4096, memory = 16384, ephemeral_storage_gib = 100 }
    "arm64-medium" = { cpu = 1024, memory = 4096, architecture = "arm64" }
    "spot-large"   = { cpu = 4096, memory = 16384, spot = true, ephemeral_storage_gib = 100 }
    "spot-arm64"   = { cpu = 2048, memory = 8192, architecture = "arm64", spot = true }
  }
  default_class       = "medium"
  max_runners         = var.max_runners
  runner_extra_labels = ["ecs-fargate"]
  allowed_base_images = [
    "ubuntu:*",
    "debian:*",
    "public.ecr.aws/docker/library/*",
  ]
  runner_task_role_policy_arns = var.runner_task_role_policy_arns

  enable_soci               = true
  log_retention_days        = 90
  enable_container_insights = true
  alarm_sns_topic_arn       = var.alarm_sns_topic_arn
}
