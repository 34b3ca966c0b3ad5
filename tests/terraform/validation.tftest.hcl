# Invalid inputs fail at plan time with the module's own messages.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
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

run "name_with_uppercase" {
  command = plan

  variables {
    name = "My_Runners"
  }

  expect_failures = [var.name]
}

run "name_too_long" {
  command = plan

  variables {
    name = "a-deployment-name-that-is-far-too-long"
  }

  expect_failures = [var.name]
}

run "fargate_size_that_does_not_exist" {
  command = plan

  variables {
    runner_class_sizes = {
      tiny = { cpu = 1024, memory = 1024 }
    }
    default_class = "tiny"
  }

  expect_failures = [var.runner_class_sizes]
}

run "default_class_not_defined" {
  command = plan

  variables {
    default_class = "huge"
  }

  expect_failures = [var.default_class]
}

run "both_repo_and_org" {
  command = plan

  variables {
    github_org = "octo-org"
  }

  expect_failures = [var.github_repo]
}

run "neither_pat_nor_app" {
  command = plan

  variables {
    github_pat = null
  }

  expect_failures = [var.github_app]
}

run "ttl_below_one_minute" {
  command = plan

  variables {
    runner_ttl_seconds = 30
  }

  expect_failures = [var.runner_ttl_seconds]
}

run "architecture_typo" {
  command = plan

  variables {
    lambda_architecture = "aarch64"
  }

  expect_failures = [var.lambda_architecture]
}

run "alarm_topic_that_is_not_an_sns_topic" {
  command = plan

  variables {
    alarm_sns_topic_arn = "arn:aws:sqs:us-east-1:123456789012:not-a-topic"
  }

  expect_failures = [var.alarm_sns_topic_arn]
}

run "lambda_zip_that_does_not_exist" {
  command = plan

  variables {
    lambda_zip_path = "releases/ecsrunner-lambda-that-is-not-there.zip"
  }

  expect_failures = [var.lambda_zip_path]
}

run "runner_context_zip_that_does_not_exist" {
  command = plan

  variables {
    runner_context_zip_path = "releases/ecsrunner-runner-context-that-is-not-there.zip"
  }

  expect_failures = [var.runner_context_zip_path]
}

run "image_rebuild_schedule_not_a_schedule" {
  command = plan

  variables {
    image_rebuild_schedule = "weekly"
  }

  expect_failures = [var.image_rebuild_schedule]
}

run "image_rebuild_retention_not_whole_days" {
  command = plan

  variables {
    image_rebuild_retention_days = 0.5
  }

  expect_failures = [var.image_rebuild_retention_days]
}
