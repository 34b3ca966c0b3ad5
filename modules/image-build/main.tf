data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  # provider 6.x renamed the region attribute from `name` to `region`; reading whichever exists
  # keeps the module free of deprecation warnings on 5.x and 6.x.
  region = coalesce(lookup(data.aws_region.current, "region", null), lookup(data.aws_region.current, "name", null))

  project_name   = "${var.name}-image-build"
  log_group_name = "/aws/codebuild/${local.project_name}"
  source_key     = "runner-context.zip"
}

resource "aws_cloudwatch_log_group" "build" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_codebuild_project" "this" {
  #checkov:skip=CKV_AWS_316:Building container images runs the Docker daemon, which needs privileged mode; the build runs only our buildspec from our own bucket.
  #checkov:skip=CKV_AWS_147:The project has no artifacts, cache or S3 logs, so a project key would encrypt nothing; its source bucket and log group use the deployment key.
  name           = local.project_name
  description    = "Builds ecsrunner ${var.name} runner images (base image + runner layer) into ECR"
  service_role   = aws_iam_role.build.arn
  build_timeout  = var.build_timeout_minutes
  queued_timeout = var.queued_timeout_minutes

  source {
    type     = "S3"
    location = "${aws_s3_bucket.context.id}/${aws_s3_object.context.key}"
  }

  artifacts {
    type = "NO_ARTIFACTS"
  }

  environment {
    compute_type                = var.compute_type
    image                       = var.build_image
    type                        = "LINUX_CONTAINER"
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = true

    environment_variable {
      name  = "REPOSITORY_URI"
      value = var.ecr_repository_url
    }

    environment_variable {
      name  = "ENABLE_SOCI"
      value = tostring(var.enable_soci)
    }
  }

  logs_config {
    cloudwatch_logs {
      status     = "ENABLED"
      group_name = aws_cloudwatch_log_group.build.name
    }

    s3_logs {
      status = "DISABLED"
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.build]
}
