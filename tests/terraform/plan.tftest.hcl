# Offline plans of the root module against a mocked AWS provider (no credentials, no network).
# Run: terraform test -test-directory=tests/terraform (tests/terraform/test_terraform_tests.py does).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
      arn        = "arn:aws:iam::123456789012:user/test"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
      key_id = "00000000-0000-0000-0000-000000000000"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:mocked"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mocked"
    }
  }

  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::mocked-bucket"
      id  = "mocked-bucket"
    }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:mocked"
      id  = "https://sqs.us-east-1.amazonaws.com/123456789012/mocked"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:us-east-1:123456789012:function:mocked"
      invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:mocked/invocations"
    }
  }

  mock_resource "aws_cloudwatch_event_rule" {
    defaults = {
      arn = "arn:aws:events:us-east-1:123456789012:rule/mocked"
    }
  }

  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:us-east-1:123456789012:table/mocked"
    }
  }

  mock_resource "aws_secretsmanager_secret" {
    defaults = {
      arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mocked-AbCdEf"
    }
  }

  mock_resource "aws_ssm_parameter" {
    defaults = {
      arn = "arn:aws:ssm:us-east-1:123456789012:parameter/mocked"
    }
  }

  mock_resource "aws_ecr_repository" {
    defaults = {
      arn            = "arn:aws:ecr:us-east-1:123456789012:repository/mocked"
      repository_url = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mocked"
    }
  }

  mock_resource "aws_ecs_cluster" {
    defaults = {
      arn = "arn:aws:ecs:us-east-1:123456789012:cluster/mocked"
    }
  }

  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/mocked:1"
    }
  }

  mock_resource "aws_codebuild_project" {
    defaults = {
      arn = "arn:aws:codebuild:us-east-1:123456789012:project/mocked"
    }
  }

  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:mocked"
    }
  }

  mock_resource "aws_apigatewayv2_stage" {
    defaults = {
      invoke_url = "https://mocked.execute-api.us-east-1.amazonaws.com/"
    }
  }
}

variables {
  github_repo     = "octo-org/octo-repo"
  github_pat      = "ghp_test_token_value"
  webhook_secret  = "test-webhook-secret-0123456789"
  subnet_ids      = ["subnet-0123456789abcdef0"]
  security_groups = ["sg-0123456789abcdef0"]
}

run "required_variables_only" {
  command = plan

  assert {
    condition     = length(aws_kms_key.this) == 1 && aws_kms_key.this[0].enable_key_rotation
    error_message = "Without kms_key_arn the module creates one key with rotation on."
  }

  assert {
    condition     = length(module.image_build) == 1 && output.codebuild_project_name == "ecsrunner-image-build"
    error_message = "Image builds are on by default."
  }

  assert {
    condition     = output.class_sizes_parameter_name == "/ecsrunner/ecsrunner/class-sizes" && output.runner_table_name == "ecsrunner-runners"
    error_message = "Resource names derive from the default name \"ecsrunner\"."
  }

  assert {
    condition     = jsondecode(local.github_credentials_json) == { type = "pat", token = "ghp_test_token_value" }
    error_message = "A PAT is stored as {\"type\": \"pat\", \"token\": ...}."
  }
}

run "full_environment_without_secrets" {
  # apply against the mock provider: every computed value gets a (fake) value, so the whole
  # Lambda environment (cli_environment = that environment + AWS_REGION) can be checked.
  command = apply

  assert {
    condition = alltrue([for key in [
      "ECSRUNNER_NAME", "RUNNER_TABLE", "CLASS_SIZES_PARAM", "ECS_CLUSTER_ARN", "SUBNET_IDS", "SECURITY_GROUP_IDS",
      "ASSIGN_PUBLIC_IP", "BASE_TASK_DEFINITION_ARN", "EXECUTION_ROLE_ARN", "TASK_ROLE_ARN", "RUNNER_LOG_GROUP",
      "RUNNER_CONTAINER_NAME", "ECR_REPOSITORY_URL", "JIT_BUCKET", "JIT_KMS_KEY_ARN", "GITHUB_REPO", "GITHUB_API_URL",
      "GITHUB_CREDENTIALS_SECRET_ARN", "WEBHOOK_SECRET_ARN", "RUNNER_GROUP_ID", "MAX_RUNNERS", "RUNNER_TTL_SECONDS",
      "STARTING_TIMEOUT_SECONDS", "IMAGE_CREATING_TIMEOUT_SECONDS", "WAITING_FOR_JOB_TIMEOUT_SECONDS",
      "RECORD_RETENTION_SECONDS", "MAX_LAUNCH_ATTEMPTS", "ENABLE_IMAGE_BUILD", "CODEBUILD_PROJECT_NAME",
      "BUILD_CONTEXT_DIGEST", "DEFAULT_BASE_IMAGE", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE",
      "POWERTOOLS_LOG_LEVEL", "AWS_REGION", "LAUNCH_WAIT_TIMEOUT_SECONDS", "MAX_JOB_RELAUNCHES",
      "LAUNCH_CONCURRENCY", "RECONCILE_WITH_GITHUB", "RECONCILE_GITHUB_REQUESTS", "WEBHOOK_APP_HOOK",
      "QUEUED_TOO_LONG_SECONDS", "JANITOR_FUNCTION_ARN", "WAKEUP_ROLE_ARN",
    ] : contains(keys(output.cli_environment), key)])
    error_message = "The functions must get every environment variable of docs/DESIGN.md."
  }

  assert {
    condition     = !anytrue([for value in values(output.cli_environment) : strcontains(value, "ghp_test_token_value") || strcontains(value, "test-webhook-secret")])
    error_message = "No secret may be in the Lambda environment."
  }

  assert {
    condition     = !contains(keys(output.cli_environment), "GITHUB_ORG") && output.cli_environment["GITHUB_REPO"] == "octo-org/octo-repo"
    error_message = "GITHUB_REPO is set and GITHUB_ORG absent for a repository deployment."
  }

  assert {
    condition     = output.cli_environment["RUNNER_TTL_SECONDS"] == "25200" && output.cli_environment["LAUNCH_WAIT_TIMEOUT_SECONDS"] == "86400" && output.cli_environment["RECONCILE_WITH_GITHUB"] == "true" && !contains(keys(output.cli_environment), "WEBHOOK_HOOK_ID") && output.cli_environment["RECORD_RETENTION_SECONDS"] == "2592000" && output.cli_environment["ENABLE_IMAGE_BUILD"] == "true" && output.cli_environment["ASSIGN_PUBLIC_IP"] == "false"
    error_message = "Numbers and flags are rendered as the strings the settings parser reads."
  }

  assert {
    condition     = output.cli_environment["BUILD_CONTEXT_DIGEST"] == filesha256("${path.module}/dist/runner-context.zip")
    error_message = "BUILD_CONTEXT_DIGEST is the sha256 of the build-context zip."
  }

  assert {
    condition     = endswith(output.webhook_url, "/webhook") && !strcontains(output.webhook_url, "//webhook")
    error_message = "webhook_url must be the stage URL plus /webhook."
  }

  assert {
    condition     = output.cli_environment["AWS_REGION"] == "us-east-1"
    error_message = "cli_environment carries AWS_REGION."
  }
}

run "github_app_and_org" {
  command = plan

  variables {
    github_repo = null
    github_org  = "octo-org"
    github_pat  = null
    github_app = {
      id          = 12345
      private_key = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"
    }
  }

  assert {
    condition     = jsondecode(local.github_credentials_json) == { type = "app", app_id = 12345, installation_id = null, private_key = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n" }
    error_message = "App credentials are stored as {\"type\": \"app\", \"app_id\", \"installation_id\", \"private_key\"}."
  }
}

run "image_build_disabled_with_own_key" {
  command = apply

  variables {
    github_repo        = null
    github_org         = "octo-org"
    enable_image_build = false
    kms_key_arn        = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = length(module.image_build) == 0 && output.codebuild_project_name == null
    error_message = "enable_image_build = false must not create the image-build module."
  }

  assert {
    condition     = output.cli_environment["ENABLE_IMAGE_BUILD"] == "false" && !contains(keys(output.cli_environment), "CODEBUILD_PROJECT_NAME")
    error_message = "The functions must learn that image builds are off."
  }

  assert {
    condition     = output.cli_environment["GITHUB_ORG"] == "octo-org" && !contains(keys(output.cli_environment), "GITHUB_REPO")
    error_message = "GITHUB_ORG is set and GITHUB_REPO absent for an organization deployment."
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && output.kms_key_arn == var.kms_key_arn && output.cli_environment["JIT_KMS_KEY_ARN"] == var.kms_key_arn
    error_message = "A given kms_key_arn is used and no key is created."
  }
}

run "spot_on_arm64" {
  # FARGATE_SPOT runs Linux ARM64 tasks on platform version 1.4.0 or later (RunTask uses LATEST).
  command = plan

  variables {
    runner_class_sizes = {
      graviton        = { cpu = 1024, memory = 2048, architecture = "arm64", spot = true }
      graviton-demand = { cpu = 1024, memory = 2048, architecture = "arm64" }
    }
    default_class = "graviton"
  }

  assert {
    condition     = module.control_plane.class_sizes_parameter_name == "/ecsrunner/ecsrunner/class-sizes"
    error_message = "A Fargate Spot class on arm64 is accepted."
  }
}

run "webhook_throttling_defaults_take_a_256_job_matrix" {
  # A 256-job matrix sends 256 workflow_job "queued" deliveries within a second or two.
  command = plan

  assert {
    condition     = module.control_plane.webhook_throttling.burst_limit >= 2 * 256 && module.control_plane.webhook_throttling.rate_limit >= 256
    error_message = "The webhook route must take a 256-job matrix at once, with 2x headroom (burst >= 512, rate >= 256/s)."
  }

  assert {
    condition     = module.control_plane.webhook_throttling.burst_limit <= 1250 && module.control_plane.webhook_throttling.rate_limit <= 2500
    error_message = "The defaults must stay under the smallest default account throttle of API Gateway (1,250 burst, 2,500 rps per Region) and leave Lambda concurrency (1,000 per Region) for the rest of the account."
  }
}

run "monitoring_on_by_default" {
  command = plan

  assert {
    condition     = output.dashboard_name == "ecsrunner-us-east-1"
    error_message = "The dashboard is on by default and named <name>-<region> (dashboards are global to the account)."
  }

  assert {
    condition = output.alarm_names == {
      dead_letter_queue_event_failures = "ecsrunner-dead-letters-event-failures"
      control_plane_errors             = "ecsrunner-control-plane-errors"
      runners_failed                   = "ecsrunner-runners-failed"
      jobs_queued_too_long             = "ecsrunner-jobs-queued-too-long"
      image_rebuilds_failed            = "ecsrunner-image-rebuilds-failed"
    }
    error_message = "The five alarms are on by default."
  }

  assert {
    condition     = length(module.monitoring.alarm_actions) == 0
    error_message = "Without alarm_sns_topic_arn the alarms notify nobody."
  }

  assert {
    condition     = module.control_plane.lambda_environment["POWERTOOLS_SERVICE_NAME"] == "ecsrunner" && module.control_plane.lambda_environment["POWERTOOLS_METRICS_NAMESPACE"] == "ecsrunner"
    error_message = "The functions' metrics carry service = the deployment name, in the ecsrunner namespace."
  }
}

run "alarms_notify_the_sns_topic" {
  command = plan

  variables {
    name                = "ci-runners"
    alarm_sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:ops"
  }

  assert {
    condition     = module.monitoring.alarm_actions == tolist(["arn:aws:sns:us-east-1:123456789012:ops"]) && length(output.alarm_names) == 5
    error_message = "Every alarm notifies alarm_sns_topic_arn (alarm and OK actions)."
  }

  assert {
    condition     = output.dashboard_name == "ci-runners-us-east-1" && module.control_plane.lambda_environment["POWERTOOLS_SERVICE_NAME"] == "ci-runners"
    error_message = "Names and the metrics' service dimension follow the deployment name."
  }
}

run "dashboard_off_alarms_on" {
  command = plan

  variables {
    enable_dashboard = false
  }

  assert {
    condition     = output.dashboard_name == null && length(output.alarm_names) == 5
    error_message = "enable_dashboard = false removes only the dashboard."
  }
}

run "dashboard_and_alarms_off" {
  command = plan

  variables {
    enable_dashboard = false
    enable_alarms    = false
  }

  assert {
    condition     = output.dashboard_name == null && output.alarm_names == {}
    error_message = "enable_dashboard = false and enable_alarms = false create neither."
  }
}

run "image_rebuilds_weekly_by_default" {
  # Issue 15, defect 4: images are rebuilt on a schedule and old rebuilds expire.
  command = plan

  assert {
    condition     = contains(keys(module.control_plane.event_rule_arns), "image_rebuild")
    error_message = "A weekly image_rebuild rule must exist by default."
  }

  assert {
    condition     = jsondecode(module.ecs_fleet.ecr_lifecycle_policy)["rules"][1]["selection"]["tagPrefixList"] == ["_r"] && jsondecode(module.ecs_fleet.ecr_lifecycle_policy)["rules"][1]["selection"]["countNumber"] == 30
    error_message = "Rebuild tags (_r...) must expire after image_rebuild_retention_days (30)."
  }
}

run "image_rebuilds_off" {
  command = plan

  variables {
    image_rebuild_schedule = ""
  }

  assert {
    condition     = !contains(keys(module.control_plane.event_rule_arns), "image_rebuild") && length(jsondecode(module.ecs_fleet.ecr_lifecycle_policy)["rules"]) == 1
    error_message = "An empty image_rebuild_schedule must create no rule and expire no rebuild tags."
  }
}

run "image_rebuilds_need_image_builds" {
  command = plan

  variables {
    enable_image_build = false
  }

  assert {
    condition     = !contains(keys(module.control_plane.event_rule_arns), "image_rebuild") && length(jsondecode(module.ecs_fleet.ecr_lifecycle_policy)["rules"]) == 1
    error_message = "Without image builds there is nothing to rebuild."
  }
}
