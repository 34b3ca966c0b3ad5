# The runner/ build context (dist/runner-context.zip), CodeBuild's S3 source. Its own bucket: its
# objects must outlive the JIT bucket's one-day expiry, and only CodeBuild reads them.

resource "aws_s3_bucket" "context" {
  #checkov:skip=CKV_AWS_18:Access logs would need another bucket; the only reader is the CodeBuild role and CloudTrail records its access.
  #checkov:skip=CKV_AWS_144:The object is rebuilt from the repository by `make build`; a replica adds nothing.
  #checkov:skip=CKV2_AWS_62:Builds are started by the control plane, not by uploads; notifications have no consumer.
  bucket_prefix = "${substr(var.name, 0, 32)}-ctx-"
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "context" {
  bucket = aws_s3_bucket.context.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "context" {
  bucket                  = aws_s3_bucket.context.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "context" {
  bucket = aws_s3_bucket.context.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "context" {
  bucket = aws_s3_bucket.context.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "context" {
  bucket = aws_s3_bucket.context.id

  rule {
    id     = "expire-old-build-contexts"
    status = "Enabled"

    filter {
      prefix = ""
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.context]
}

data "aws_iam_policy_document" "context_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.context.arn, "${aws_s3_bucket.context.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "context" {
  bucket = aws_s3_bucket.context.id
  policy = data.aws_iam_policy_document.context_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.context]
}

resource "aws_s3_object" "context" {
  bucket = aws_s3_bucket.context.id
  key    = local.source_key
  source = var.runner_context_zip_path
  # With SSE-KMS the ETag is not the MD5 of the content, so changes are tracked by source_hash.
  source_hash = fileexists(var.runner_context_zip_path) ? filemd5(var.runner_context_zip_path) : null
  tags        = var.tags

  lifecycle {
    precondition {
      condition     = fileexists(var.runner_context_zip_path)
      error_message = "The build context ${var.runner_context_zip_path} does not exist. With the module from a git or registry source, set runner_context_zip_path to the release's ecsrunner-<version>-runner-context.zip (`make dist` in an ecsrunner checkout builds it); with a local checkout as the source, run `make build` there."
    }
  }

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.context, aws_s3_bucket_versioning.context]
}
