data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # provider 6.x renamed the region attribute from `name` to `region`; reading whichever exists
  # keeps the module free of deprecation warnings on 5.x and 6.x.
  region = coalesce(lookup(data.aws_region.current, "region", null), lookup(data.aws_region.current, "name", null))

  runner_log_group_name = "/aws/ecs/${var.name}-runner"
  task_family           = "${var.name}-runner"
}

resource "aws_cloudwatch_log_group" "runner" {
  name              = local.runner_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_ecs_cluster" "this" {
  #checkov:skip=CKV_AWS_65:Container Insights follows enable_container_insights (default true); checkov cannot resolve the conditional through the module calls.
  name = var.name

  setting {
    name  = "containerInsights"
    value = var.enable_container_insights ? "enabled" : "disabled"
  }

  tags = var.tags
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

resource "aws_ecr_repository" "runner" {
  name = "${var.name}-runner"
  # Derived tags are content-addressed (base image, build context, architecture): a tag never
  # needs to point at a different image.
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_destroy

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "runner" {
  repository = aws_ecr_repository.runner.name
  policy = jsonencode({
    rules = concat([{
      rulePriority = 1
      description  = "Expire untagged images (superseded layers, failed pushes)"
      selection = {
        tagStatus   = "untagged"
        countType   = "sinceImagePushed"
        countUnit   = "days"
        countNumber = var.untagged_image_expiry_days
      }
      action = { type = "expire" }
      }], var.rebuilt_image_expiry_days == null ? [] : [{
      # ECR rules cannot count per image name, so age decides: every image in use is rebuilt each
      # schedule period, and its older rebuilds (and failed ones) expire. First builds are kept.
      rulePriority = 2
      description  = "Expire scheduled rebuilds older than the retention"
      selection = {
        tagStatus     = "tagged"
        tagPrefixList = [var.rebuilt_image_tag_prefix]
        countType     = "sinceImagePushed"
        countUnit     = "days"
        countNumber   = var.rebuilt_image_expiry_days
      }
      action = { type = "expire" }
    }])
  })
}

resource "aws_ecs_task_definition" "runner" {
  #checkov:skip=CKV_AWS_336:Runner jobs write to the filesystem (tool caches, checkouts, package installs); a read-only root would break most workflows.
  family                   = local.task_family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.task_cpu)
  memory                   = tostring(var.task_memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # A template: the control plane registers a copy per derived image tag, swapping the image and
  # the CPU architecture, and sets task cpu/memory per class at RunTask. The JIT configuration
  # arrives as an S3 environment file (RunTask override), never in this definition.
  container_definitions = jsonencode([{
    name                   = var.container_name
    image                  = "${aws_ecr_repository.runner.repository_url}:bootstrap"
    essential              = true
    memoryReservation      = var.container_memory_reservation
    stopTimeout            = 120
    readonlyRootFilesystem = false
    linuxParameters        = { initProcessEnabled = true }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.runner.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "runner"
      }
    }
  }])

  tags = var.tags
}
