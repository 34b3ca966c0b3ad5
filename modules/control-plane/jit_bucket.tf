# Private bucket for JIT environment files (jit/<runner>.env). Each object holds a single-use runner
# registration: written by the Lambdas, read once by the ECS agent, deleted when the runner ends and
# expired after a day at the latest.

resource "aws_s3_bucket" "jit" {
  #checkov:skip=CKV_AWS_18:Access logs would need a second bucket per deployment; object reads are by the ECS agent only and CloudTrail data events cover audits.
  #checkov:skip=CKV_AWS_144:Objects live for minutes and are useless outside this region's cluster: replication would only copy credentials.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to JIT objects; event notifications have no consumer.
  #checkov:skip=CKV_AWS_21:Versioning would keep deleted single-use credentials around; objects are written once and deleted.
  bucket_prefix = "${substr(var.name, 0, 32)}-jit-"
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "jit" {
  bucket = aws_s3_bucket.jit.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "jit" {
  bucket                  = aws_s3_bucket.jit.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "jit" {
  bucket = aws_s3_bucket.jit.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "jit" {
  bucket = aws_s3_bucket.jit.id

  rule {
    id     = "expire-jit-environment-files"
    status = "Enabled"

    filter {
      prefix = ""
    }

    expiration {
      days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "jit_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.jit.arn, "${aws_s3_bucket.jit.arn}/*"]

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

resource "aws_s3_bucket_policy" "jit" {
  bucket = aws_s3_bucket.jit.id
  policy = data.aws_iam_policy_document.jit_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.jit]
}
