#################### Deployment

variable "name" {
  description = "Deployment name: prefix of every resource and of runner names. Two deployments in one account and region need different names."
  type        = string
  default     = "ecsrunner"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.name)) && length(var.name) <= 36
    error_message = "name must be 1-36 characters of lowercase letters, digits and '-', starting with a letter or digit (runner names are <name>-<27 characters> and must fit in 64)."
  }

  validation {
    condition     = !endswith(var.name, "-") && !strcontains(var.name, "--")
    error_message = "name must not end with '-' or contain '--': ECR repository names forbid both."
  }
}

variable "tags" {
  description = "Tags added to every resource (merged with ecsrunner:deployment = name)."
  type        = map(string)
  default     = {}
}

#################### GitHub

variable "github_repo" {
  description = "Repository the runners serve, as owner/repo. Set exactly one of github_repo and github_org."
  type        = string
  default     = null

  validation {
    condition     = (var.github_repo == null) != (var.github_org == null)
    error_message = "Set exactly one of github_repo (\"owner/repo\") and github_org (\"my-org\")."
  }

  validation {
    condition     = var.github_repo == null || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repo))
    error_message = "github_repo must look like \"owner/repo\" (no URL, no .git suffix needed)."
  }
}

variable "github_org" {
  description = "Organization the runners serve (organization-level runners). Set exactly one of github_repo and github_org."
  type        = string
  default     = null

  validation {
    condition     = var.github_org == null || can(regex("^[A-Za-z0-9][A-Za-z0-9-]*$", var.github_org))
    error_message = "github_org must be an organization login such as \"my-org\" (letters, digits, '-')."
  }
}

variable "github_pat" {
  description = "Fine-grained or classic personal access token (repository: Administration read/write; organization: Self-hosted runners read/write). Set exactly one of github_pat and github_app."
  type        = string
  default     = null
  sensitive   = true
}

variable "github_app" {
  description = "GitHub App credentials: id (App ID), installation_id (optional: looked up for the repo or org when null) and private_key (PEM). Set exactly one of github_pat and github_app."
  type = object({
    id              = number
    installation_id = optional(number)
    private_key     = string
  })
  default   = null
  sensitive = true

  # Checked here rather than on github_pat: Terraform prints the value of a failing string variable.
  validation {
    condition     = (var.github_app == null) != (var.github_pat == null)
    error_message = "Set exactly one of github_pat (a token) and github_app ({ id, installation_id, private_key })."
  }

  validation {
    condition     = var.github_app == null || can(regex("-----BEGIN [A-Z ]*PRIVATE KEY-----", var.github_app.private_key))
    error_message = "github_app.private_key must be the App's PEM private key (-----BEGIN RSA PRIVATE KEY----- ...), e.g. file(\"app.private-key.pem\")."
  }
}

variable "github_api_url" {
  description = "GitHub REST API base URL: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server."
  type        = string
  default     = "https://api.github.com"

  validation {
    condition     = can(regex("^https://[^/]+(/.*)?$", var.github_api_url)) || can(regex("^http://(127\\.0\\.0\\.1|localhost)(:[0-9]+)?(/.*)?$", var.github_api_url))
    error_message = "github_api_url must be an https:// URL (plain http is only accepted for a local stand-in on 127.0.0.1 or localhost)."
  }
}

variable "webhook_secret" {
  description = "Secret shared with the GitHub webhook (at least 16 characters; e.g. `openssl rand -hex 32`)."
  type        = string
  sensitive   = true
}

#################### Network

variable "subnet_ids" {
  description = "Subnets of runner tasks (private subnets with a NAT gateway, or public ones with assign_public_ip = true)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0 && alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "subnet_ids needs at least one subnet ID (subnet-...)."
  }
}

variable "security_groups" {
  description = "Security groups of runner tasks (runners need outbound HTTPS to GitHub and AWS)."
  type        = list(string)

  validation {
    condition     = length(var.security_groups) > 0 && length(var.security_groups) <= 5 && alltrue([for id in var.security_groups : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "security_groups needs 1 to 5 security group IDs (sg-...)."
  }
}

variable "assign_public_ip" {
  description = "Give runner tasks a public IP (public subnets without NAT)."
  type        = bool
  default     = false
}

#################### Runners

variable "runner_class_sizes" {
  description = "Runner classes, chosen by a job's class:<name> label: Fargate task cpu units and memory (MiB), spot (Fargate Spot, x86_64 or arm64, falls back to on-demand), architecture (x86_64 or arm64) and ephemeral_storage_gib (21-200, null = 21)."
  type = map(object({
    cpu                   = number
    memory                = number
    spot                  = optional(bool, false)
    architecture          = optional(string, "x86_64")
    ephemeral_storage_gib = optional(number)
  }))
  default = {
    small  = { cpu = 512, memory = 1024 }
    medium = { cpu = 1024, memory = 4096 }
    large  = { cpu = 4096, memory = 16384 }
  }

  validation {
    condition     = length(var.runner_class_sizes) > 0 && alltrue([for class_name in keys(var.runner_class_sizes) : can(regex("^[a-z0-9][a-z0-9._-]{0,62}$", class_name))])
    error_message = "runner_class_sizes needs at least one class; class names are 1-63 lowercase letters, digits, '.', '_' or '-'."
  }

  validation {
    condition     = alltrue([for size in values(var.runner_class_sizes) : contains([256, 512, 1024, 2048, 4096, 8192, 16384], size.cpu)])
    error_message = "Class cpu must be a Fargate value: 256, 512, 1024, 2048, 4096, 8192 or 16384. Invalid: ${join(", ", [for class_name, size in var.runner_class_sizes : "${class_name} (cpu ${size.cpu})" if !contains([256, 512, 1024, 2048, 4096, 8192, 16384], size.cpu)])}."
  }

  validation {
    condition = alltrue([for size in values(var.runner_class_sizes) : contains(lookup({
      "256"   = [512, 1024, 2048]
      "512"   = range(1024, 4097, 1024)
      "1024"  = range(2048, 8193, 1024)
      "2048"  = range(4096, 16385, 1024)
      "4096"  = range(8192, 30721, 1024)
      "8192"  = range(16384, 61441, 4096)
      "16384" = range(32768, 122881, 8192)
    }, tostring(size.cpu), []), size.memory)])
    error_message = "Class memory (MiB) must be valid for its cpu on Fargate: cpu 256 takes 512, 1024 or 2048; 512 takes 1024-4096; 1024 takes 2048-8192; 2048 takes 4096-16384; 4096 takes 8192-30720 (steps of 1024); 8192 takes 16384-61440 (steps of 4096); 16384 takes 32768-122880 (steps of 8192). Invalid: ${join(", ", [for class_name, size in var.runner_class_sizes : "${class_name} (cpu ${size.cpu}, memory ${size.memory})" if !contains(lookup({
      "256"   = [512, 1024, 2048]
      "512"   = range(1024, 4097, 1024)
      "1024"  = range(2048, 8193, 1024)
      "2048"  = range(4096, 16385, 1024)
      "4096"  = range(8192, 30721, 1024)
      "8192"  = range(16384, 61441, 4096)
      "16384" = range(32768, 122881, 8192)
    }, tostring(size.cpu), []), size.memory)])}."
  }

  validation {
    condition     = alltrue([for size in values(var.runner_class_sizes) : contains(["x86_64", "arm64"], size.architecture)])
    error_message = "Class architecture must be x86_64 or arm64."
  }

  validation {
    condition     = alltrue([for size in values(var.runner_class_sizes) : size.ephemeral_storage_gib == null || (try(size.ephemeral_storage_gib >= 21 && size.ephemeral_storage_gib <= 200 && floor(size.ephemeral_storage_gib) == size.ephemeral_storage_gib, false))])
    error_message = "Class ephemeral_storage_gib must be a whole number from 21 to 200 (or null for Fargate's default 21)."
  }
}

variable "default_class" {
  description = "Class of jobs without a class:<name> label; a key of runner_class_sizes."
  type        = string
  default     = "medium"

  validation {
    condition     = contains(keys(var.runner_class_sizes), var.default_class)
    error_message = "default_class must be one of the runner_class_sizes keys: ${join(", ", sort(keys(var.runner_class_sizes)))}."
  }
}

variable "runner_extra_labels" {
  description = "Extra labels a job's runs-on may use and still be served by this fleet (besides self-hosted, linux, x64/arm64, class:<name> and image:<reference>); a job with any other label is left to another fleet. Runners register with exactly their job's labels."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for label in var.runner_extra_labels : can(regex("^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$", label))])
    error_message = "runner_extra_labels entries must be 1-100 characters of letters, digits, '.', '_', ':' or '-', without spaces or commas."
  }
}

variable "runner_group_id" {
  description = "GitHub runner group ID the JIT runners join (1 = Default)."
  type        = number
  default     = 1

  validation {
    condition     = var.runner_group_id >= 1 && floor(var.runner_group_id) == var.runner_group_id
    error_message = "runner_group_id must be a whole number >= 1 (1 is the Default group)."
  }
}

variable "max_runners" {
  description = "Maximum number of runners alive at once; 0 = unlimited."
  type        = number
  default     = 0

  validation {
    condition     = var.max_runners >= 0 && floor(var.max_runners) == var.max_runners
    error_message = "max_runners must be a whole number >= 0 (0 means unlimited)."
  }
}

variable "runner_ttl_seconds" {
  description = "The longest a runner task may live, in seconds, counted from the RunTask that started it (waits before the launch and image builds do not count). It stops a task even while its job runs: the default, 7 h, lets GitHub's default job timeout (360 minutes) finish plus the task's start and shutdown; a job with a longer timeout-minutes needs a longer TTL (up to GitHub's 5-day job limit plus an hour)."
  type        = number
  default     = 25200

  validation {
    condition     = var.runner_ttl_seconds >= 60 && var.runner_ttl_seconds <= 435600
    error_message = "runner_ttl_seconds must be between 60 (1 minute) and 435600 (5 days + 1 hour)."
  }
}

variable "starting_timeout_seconds" {
  description = "Seconds a runner task may take to reach RUNNING (provisioning, image pull), counted from its RunTask. Before ending the runner the janitor asks GitHub: a runner already busy with a job is kept."
  type        = number
  default     = 900

  validation {
    condition     = var.starting_timeout_seconds >= 60
    error_message = "starting_timeout_seconds must be at least 60."
  }
}

variable "image_creating_timeout_seconds" {
  description = "Seconds a runner may wait in IMAGE_CREATING for its image build, counted from entering IMAGE_CREATING."
  type        = number
  default     = 3600

  validation {
    condition     = var.image_creating_timeout_seconds >= 60
    error_message = "image_creating_timeout_seconds must be at least 60."
  }
}

variable "waiting_for_job_timeout_seconds" {
  description = "Seconds a runner may wait for a job, counted from its task reaching RUNNING. The janitor then asks GitHub first: a busy runner (its in_progress delivery late or lost) is moved to RUNNING and kept; an idle one is deregistered, stopped, and its job relaunched if GitHub still holds it queued."
  type        = number
  default     = 1800

  validation {
    condition     = var.waiting_for_job_timeout_seconds >= 60
    error_message = "waiting_for_job_timeout_seconds must be at least 60."
  }
}

variable "launch_wait_timeout_seconds" {
  description = "The longest a runner may wait for its task to start (a max_runners slot, launch retries, GitHub rate-limit pauses), counted from the time GitHub queued its job. Default: GitHub's own 24-hour queue limit, after which GitHub cancels the job."
  type        = number
  default     = 86400

  validation {
    condition     = var.launch_wait_timeout_seconds >= 60 && var.launch_wait_timeout_seconds <= 86400
    error_message = "launch_wait_timeout_seconds must be between 60 and 86400 (GitHub's 24-hour queue limit)."
  }
}

variable "max_job_relaunches" {
  description = "How many new runners a job gets when its runners end before taking it (Fargate Spot interruption, image pull failure, a timeout): the first at once, later ones with backoff (30 s doubling to 10 min), each only while GitHub still holds the job queued. After a Spot interruption the new runner runs on on-demand Fargate. When they are spent the job is given up, visibly (reason, JobsAbandoned metric)."
  type        = number
  default     = 3

  validation {
    condition     = var.max_job_relaunches >= 0 && var.max_job_relaunches <= 20 && floor(var.max_job_relaunches) == var.max_job_relaunches
    error_message = "max_job_relaunches must be a whole number between 0 and 20."
  }
}

variable "launch_concurrency" {
  description = "Launches one janitor run makes at once (runners waiting for a slot, a retry or the end of a GitHub rate-limit pause). Each launch claims its runner first, so none is launched twice."
  type        = number
  default     = 8

  validation {
    condition     = var.launch_concurrency >= 1 && var.launch_concurrency <= 64
    error_message = "launch_concurrency must be between 1 and 64."
  }
}

variable "reconcile_with_github" {
  description = "Each janitor run compares GitHub's queue with the runners: every job GitHub holds queued with labels this fleet serves and no live runner that can take it (its webhook was lost) gets one. Turn off only to save GitHub API requests."
  type        = bool
  default     = true
}

variable "reconcile_github_requests" {
  description = "GitHub API requests one janitor run may spend on reconciliation (listing queued and in-progress runs and their jobs, failed webhook deliveries). With the default schedule, 50 requests every 5 minutes is 600 an hour, 12 % of a PAT's 5,000-an-hour limit."
  type        = number
  default     = 50

  validation {
    condition     = var.reconcile_github_requests >= 1 && var.reconcile_github_requests <= 1000
    error_message = "reconcile_github_requests must be between 1 and 1000."
  }
}

variable "webhook_hook_id" {
  description = "Id of the repository or organisation webhook that sends workflow_job events to this deployment (shown in the hook's URL on GitHub). With it, the janitor redelivers failed deliveries of the last 24 hours (each at most 3 times), as GitHub recommends; the credentials need read access to the hook (Webhooks: read and write)."
  type        = number
  default     = null
}

variable "webhook_app_hook" {
  description = "The deployment's webhook is the GitHub App's own webhook: the janitor redelivers its failed deliveries (with the App's JWT). Needs GitHub App credentials."
  type        = bool
  default     = false
}

variable "queued_too_long_seconds" {
  description = "A job of ours still without a started task after this many seconds (counted from GitHub queueing it) counts in the JobsQueuedTooLong metric, which the jobs-left-queued alarm watches."
  type        = number
  default     = 900

  validation {
    condition     = var.queued_too_long_seconds >= 60
    error_message = "queued_too_long_seconds must be at least 60."
  }
}

variable "warm_pools" {
  description = <<-EOT
    Warm pools: idle runners kept ready so a job starts in seconds instead of the minute a cold Fargate task takes. Keyed by pool name (1-32 of a-z, 0-9, '-', '_'):
    `class` (a class of runner_class_sizes), `size` (runners wanted; 0-100), optional `image` (an `image:` value; default: default_base_image),
    optional `schedules` (`cron` = "minute hour day-of-month month day-of-week", `size`, `timezone` (IANA, default UTC): the size is the one of the entry that fired last, e.g. 0 outside working hours),
    optional `max_idle_seconds` (default 14400, at least 300: a warm runner idle longer is replaced, so new images and runner versions arrive).
    A warm runner is an ordinary ephemeral JIT runner registered with the labels self-hosted, linux, its architecture, class:<class>, image:<image> when given and runner_extra_labels; it counts against max_runners and bills while it waits.
  EOT
  type = map(object({
    class = string
    size  = number
    image = optional(string)
    schedules = optional(list(object({
      cron     = string
      size     = number
      timezone = optional(string, "UTC")
    })), [])
    max_idle_seconds = optional(number, 14400)
  }))
  default = {}

  validation {
    condition     = alltrue([for name, pool in var.warm_pools : can(regex("^[a-z0-9][a-z0-9_-]{0,31}$", name))])
    error_message = "warm_pools: pool names must be 1-32 characters of a-z, 0-9, '-' and '_', starting with a letter or digit."
  }

  validation {
    condition = alltrue(flatten([for pool in var.warm_pools : concat(
      [pool.size >= 0 && pool.size <= 100 && floor(pool.size) == pool.size, pool.max_idle_seconds >= 300],
      [for entry in pool.schedules : entry.size >= 0 && entry.size <= 100 && length(split(" ", trimspace(entry.cron))) == 5],
    )]))
    error_message = "warm_pools: size and schedule sizes must be whole numbers from 0 to 100, max_idle_seconds at least 300, and each cron has 5 fields."
  }
}

variable "max_launch_attempts" {
  description = "Launch attempts (RunTask failures, capacity errors, GitHub errors) at full pace. After them every further attempt first asks GitHub whether the job is still queued, with backoff capped at 10 minutes, until launch_wait_timeout_seconds: a transient failure never ends a job's chances while GitHub holds it queued."
  type        = number
  default     = 5

  validation {
    condition     = var.max_launch_attempts >= 1 && var.max_launch_attempts <= 20
    error_message = "max_launch_attempts must be between 1 and 20."
  }
}

variable "record_retention_days" {
  description = "Days finished runner records stay in the table before DynamoDB TTL removes them."
  type        = number
  default     = 30

  validation {
    condition     = var.record_retention_days >= 1 && var.record_retention_days <= 365
    error_message = "record_retention_days must be between 1 and 365."
  }
}

variable "default_base_image" {
  description = "Base image of the runner image for jobs without an image:<reference> label (the image is built FROM it). A job's container: key is not used: Fargate tasks run no Docker daemon."
  type        = string
  default     = "ubuntu:22.04"

  validation {
    condition     = length(trimspace(var.default_base_image)) > 0 && !strcontains(var.default_base_image, " ")
    error_message = "default_base_image must be an image reference such as ubuntu:22.04."
  }
}

variable "allowed_base_images" {
  description = "Glob patterns of base images jobs may request (e.g. [\"ubuntu:*\", \"public.ecr.aws/docker/library/*\"]); empty = any valid reference."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for pattern in var.allowed_base_images : length(pattern) > 0 && !strcontains(pattern, ",") && !strcontains(pattern, " ")])
    error_message = "allowed_base_images entries must be non-empty patterns without commas or spaces."
  }
}

variable "runner_task_role_policy_arns" {
  description = "IAM policy ARNs attached to the runner task role: the AWS permissions job code gets. Empty = none."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.runner_task_role_policy_arns : can(regex("^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/.+$", arn))])
    error_message = "runner_task_role_policy_arns entries must be IAM policy ARNs (arn:aws:iam::123456789012:policy/NAME or arn:aws:iam::aws:policy/NAME)."
  }
}

variable "enable_container_insights" {
  description = "Turn on CloudWatch Container Insights for the cluster (extra CloudWatch cost)."
  type        = bool
  default     = true
}

variable "janitor_schedule_expression" {
  description = "EventBridge schedule of the janitor, rate(...) or cron(...)."
  type        = string
  default     = "rate(5 minutes)"

  validation {
    condition     = can(regex("^(rate\\(1 (minute|hour|day)\\)|rate\\([1-9][0-9]* (minutes|hours|days)\\)|cron\\(.+\\))$", var.janitor_schedule_expression))
    error_message = "janitor_schedule_expression must be rate(N minutes|hours|days) (rate(1 minute) in the singular) or cron(...)."
  }
}

#################### Images

variable "enable_image_build" {
  description = "Build per-job runner images with CodeBuild (the image-build module). When false, derived images must already be in the ECR repository."
  type        = bool
  default     = true
}

variable "enable_soci" {
  description = "Build a SOCI index with each image so Fargate lazy-loads it (faster starts of large images)."
  type        = bool
  default     = false
}

variable "image_build_compute_type" {
  description = "CodeBuild compute type of image builds."
  type        = string
  default     = "BUILD_GENERAL1_MEDIUM"

  validation {
    condition     = can(regex("^BUILD_GENERAL1_(SMALL|MEDIUM|LARGE|XLARGE|2XLARGE)$", var.image_build_compute_type))
    error_message = "image_build_compute_type must be BUILD_GENERAL1_SMALL, _MEDIUM, _LARGE, _XLARGE or _2XLARGE."
  }
}

variable "image_build_timeout_minutes" {
  description = "Timeout of one image build, in minutes."
  type        = number
  default     = 60

  validation {
    condition     = var.image_build_timeout_minutes >= 5 && var.image_build_timeout_minutes <= 480
    error_message = "image_build_timeout_minutes must be between 5 and 480."
  }
}

variable "image_rebuild_schedule" {
  description = "EventBridge schedule, rate(...) or cron(...), on which every runner image already built is rebuilt (new base image layers, security updates, runner version) under a new tag; new launches move to the rebuild once it is READY. Empty or null: images are built once and never rebuilt. Needs enable_image_build."
  type        = string
  default     = "rate(7 days)"
  nullable    = true

  validation {
    condition     = var.image_rebuild_schedule == null ? true : (var.image_rebuild_schedule == "" || can(regex("^(rate\\(1 (minute|hour|day)\\)|rate\\([1-9][0-9]* (minutes|hours|days)\\)|cron\\(.+\\))$", var.image_rebuild_schedule)))
    error_message = "image_rebuild_schedule must be rate(N minutes|hours|days) (rate(1 day) in the singular), cron(...), or empty/null to turn rebuilds off."
  }
}

variable "image_rebuild_retention_days" {
  description = "Days a rebuilt image (tag prefix _r) stays in the ECR repository after its push; the lifecycle policy expires it then. Keep it several rebuild periods long: the current rebuild of an image whose later rebuilds fail must not expire while jobs use it. Images of first builds never expire. Applies only while image_rebuild_schedule is set."
  type        = number
  default     = 30

  validation {
    condition     = var.image_rebuild_retention_days >= 1 && floor(var.image_rebuild_retention_days) == var.image_rebuild_retention_days
    error_message = "image_rebuild_retention_days must be a whole number of days, at least 1."
  }
}

variable "image_build_role_policy_arns" {
  description = "Extra IAM policies for the CodeBuild role, e.g. to pull base images from private ECR repositories."
  type        = list(string)
  default     = []
}

#################### Packaging and Lambda

variable "lambda_zip_path" {
  description = "Path of the Lambda package, built for lambda_runtime and lambda_architecture: the ecsrunner-<version>-lambda-<runtime>-<arch>.zip of a release (`make dist`). Required when the module comes from a git or registry source; null = dist/lambda.zip in this module's directory, which only a checkout used as a local source has (`make build`)."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_zip_path == null ? true : fileexists(var.lambda_zip_path)
    error_message = "lambda_zip_path: no file at ${coalesce(var.lambda_zip_path, "null")} (relative paths start at the directory Terraform runs in; use \"$${path.root}/...\"). Download the release's ecsrunner-<version>-lambda-<runtime>-<arch>.zip, or run `make dist` in an ecsrunner checkout."
  }
}

variable "runner_context_zip_path" {
  description = "Path of the runner/ build context zip (the ecsrunner-<version>-runner-context.zip of a release, `make dist`). Required with image builds on (enable_image_build) when the module comes from a git or registry source; null = dist/runner-context.zip in this module's directory (`make build` in a checkout used as a local source)."
  type        = string
  default     = null

  validation {
    condition     = var.runner_context_zip_path == null ? true : fileexists(var.runner_context_zip_path)
    error_message = "runner_context_zip_path: no file at ${coalesce(var.runner_context_zip_path, "null")} (relative paths start at the directory Terraform runs in; use \"$${path.root}/...\"). Download the release's ecsrunner-<version>-runner-context.zip, or run `make dist` in an ecsrunner checkout."
  }
}

variable "lambda_runtime" {
  description = "Lambda runtime of both functions; must match the runtime the package was built for (make build LAMBDA_RUNTIME=...)."
  type        = string
  default     = "python3.13"

  validation {
    condition     = can(regex("^python3\\.(1[1-9]|[2-9][0-9])$", var.lambda_runtime))
    error_message = "lambda_runtime must be python3.11 or newer, e.g. python3.13."
  }
}

variable "lambda_architecture" {
  description = "Lambda architecture: x86_64 or arm64; the package must be built for it (make build LAMBDA_ARCH=arm64)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be x86_64 or arm64."
  }
}

variable "lambda_log_level" {
  description = "Log level of both functions (POWERTOOLS_LOG_LEVEL)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.lambda_log_level)
    error_message = "lambda_log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "control_plane_memory_size" {
  description = "Memory (MiB) of the control-plane function; CPU scales with it."
  type        = number
  default     = 512

  validation {
    condition     = var.control_plane_memory_size >= 256 && var.control_plane_memory_size <= 10240
    error_message = "control_plane_memory_size must be between 256 and 10240 MiB."
  }
}

variable "janitor_memory_size" {
  description = "Memory (MiB) of the janitor function."
  type        = number
  default     = 512

  validation {
    condition     = var.janitor_memory_size >= 256 && var.janitor_memory_size <= 10240
    error_message = "janitor_memory_size must be between 256 and 10240 MiB."
  }
}

#################### Security and operations

variable "kms_key_arn" {
  description = "Customer managed KMS key for all data at rest; null = create one (rotation on). A key you bring must allow CloudWatch Logs and EventBridge as in the kms_key_policy_json output."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not an alias."
  }
}

variable "log_retention_days" {
  description = "Retention of every log group (runners, functions, webhook access, builds), in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "iam_permissions_boundary_arn" {
  description = "Permissions boundary set on every role the module creates, or null."
  type        = string
  default     = null
}

variable "webhook_throttling_burst_limit" {
  description = "Burst limit (requests at once) of the POST /webhook route. The default takes a 256-job matrix, whose 256 workflow_job \"queued\" deliveries arrive within a second or two, twice over. It sits under the account's API Gateway throttle (5,000 burst per Region by default; 1,250 in some newer Regions) and every request runs the control-plane function: 512 at once uses half of the default Lambda concurrency quota (1,000 per Region), shared with every other function of the account."
  type        = number
  default     = 512

  validation {
    condition     = var.webhook_throttling_burst_limit >= 1
    error_message = "webhook_throttling_burst_limit must be at least 1."
  }
}

variable "webhook_throttling_rate_limit" {
  description = "Steady-state rate limit (requests per second) of the POST /webhook route, refilling the burst bucket. The default refills a 256-job matrix's \"queued\" deliveries in a second and absorbs its \"in_progress\" and \"completed\" deliveries as they follow; it sits far under the account's API Gateway throttle (10,000 requests per second per Region by default; 2,500 in some newer Regions)."
  type        = number
  default     = 256

  validation {
    condition     = var.webhook_throttling_rate_limit >= 1
    error_message = "webhook_throttling_rate_limit must be at least 1."
  }
}

variable "runner_table_deletion_protection" {
  description = "DynamoDB deletion protection on the runner table; set false before `terraform destroy`."
  type        = bool
  default     = true
}

variable "secret_recovery_window_days" {
  description = "Days a destroyed secret stays recoverable; 0 deletes at once (lets a destroyed deployment be re-created under the same name)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "force_destroy" {
  description = "Let destroy delete non-empty buckets and the ECR repository with its images. For sandboxes and tests."
  type        = bool
  default     = false
}

#################### Monitoring

variable "enable_dashboard" {
  description = "Create the CloudWatch dashboard (<name>-<region>): runners by status, job start latency, failures by reason, relaunches and reconciliations, warm pools, GitHub rate-limit pauses, jobs queued too long, dead-letter queue depth, Lambda errors and throttles, webhook API 4xx/5xx."
  type        = bool
  default     = true
}

variable "enable_alarms" {
  description = "Create the CloudWatch alarms: dead-letter queue not empty, control-plane function errors, runners failed, jobs left queued too long, scheduled image rebuilds failed (each > 0 in a 5-minute period)."
  type        = bool
  default     = true
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic every alarm notifies when it fires and when it recovers (alarm and OK actions); null = alarms without actions (visible in the console only). A topic encrypted with a KMS key must let CloudWatch use that key."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_sns_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)."
  }
}
