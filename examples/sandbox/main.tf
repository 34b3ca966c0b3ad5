# The real root module against a local moto server (make demo, tests, benchmarks). Nothing here
# reaches AWS: every service endpoint is aws_endpoint_url and the credentials are moto's dummies.

provider "aws" {
  #checkov:skip=CKV_AWS_41:"test"/"test" are moto's dummy credentials for a local emulator, not AWS keys.
  region                      = var.region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
    apigateway     = var.aws_endpoint_url
    apigatewayv2   = var.aws_endpoint_url
    cloudwatch     = var.aws_endpoint_url
    codebuild      = var.aws_endpoint_url
    dynamodb       = var.aws_endpoint_url
    ec2            = var.aws_endpoint_url
    ecr            = var.aws_endpoint_url
    ecs            = var.aws_endpoint_url
    events         = var.aws_endpoint_url
    iam            = var.aws_endpoint_url
    kms            = var.aws_endpoint_url
    lambda         = var.aws_endpoint_url
    logs           = var.aws_endpoint_url
    s3             = var.aws_endpoint_url
    scheduler      = var.aws_endpoint_url
    secretsmanager = var.aws_endpoint_url
    sns            = var.aws_endpoint_url
    sqs            = var.aws_endpoint_url
    ssm            = var.aws_endpoint_url
    sts            = var.aws_endpoint_url
  }
}

# moto's RunTask needs a VPC with DNS hostnames, a subnet it knows and a security group.
resource "aws_vpc" "sandbox" {
  #checkov:skip=CKV2_AWS_11:Emulated VPC on a local moto server: there is no traffic to log.
  #checkov:skip=CKV2_AWS_12:Emulated VPC; its default security group carries no traffic.
  cidr_block           = "10.42.0.0/16"
  enable_dns_hostnames = true
  enable_dns_support   = true
  tags                 = { Name = "${var.name}-sandbox" }
}

resource "aws_subnet" "sandbox" {
  vpc_id     = aws_vpc.sandbox.id
  cidr_block = "10.42.1.0/24"
  tags       = { Name = "${var.name}-sandbox" }
}

resource "aws_security_group" "runners" {
  #checkov:skip=CKV2_AWS_5:Attached to runner tasks by the control plane at RunTask (awsvpc network configuration), not by Terraform.
  name        = "${var.name}-runners"
  description = "Sandbox runner tasks: HTTPS out only"
  vpc_id      = aws_vpc.sandbox.id

  egress {
    description = "HTTPS to GitHub and AWS APIs"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

# Where the module's alarms send their notifications (alarm_sns_topic_arn).
resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = "alias/aws/sns"
}

module "ecsrunner" {
  source = "../.."

  name             = var.name
  github_repo      = var.github_repo
  github_pat       = var.github_pat
  github_api_url   = var.github_api_url
  webhook_secret   = var.webhook_secret
  subnet_ids       = [aws_subnet.sandbox.id]
  security_groups  = [aws_security_group.runners.id]
  assign_public_ip = false

  runner_class_sizes          = var.runner_class_sizes
  default_class               = var.default_class
  max_runners                 = var.max_runners
  runner_ttl_seconds          = var.runner_ttl_seconds
  janitor_schedule_expression = var.janitor_schedule_expression
  enable_image_build          = var.enable_image_build
  warm_pools                  = var.warm_pools
  alarm_sns_topic_arn         = aws_sns_topic.alarms.arn
  lambda_zip_path             = var.lambda_zip_path
  runner_context_zip_path     = var.runner_context_zip_path

  # Disposable: destroy must leave nothing behind and a re-apply must work at once.
  force_destroy                    = true
  runner_table_deletion_protection = false
  secret_recovery_window_days      = 0
  log_retention_days               = 1

  tags = { "ecsrunner:environment" = "sandbox" }
}
