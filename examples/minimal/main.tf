provider "aws" {
  region = var.region
}

module "ecsrunner" {
  source = "../.."

  github_repo     = var.github_repo
  github_pat      = var.github_pat
  webhook_secret  = var.webhook_secret
  subnet_ids      = var.subnet_ids
  security_groups = var.security_group_ids
}
