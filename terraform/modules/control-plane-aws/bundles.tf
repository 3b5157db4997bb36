# Where `pushflow deploy` uploads code bundles (PUSHFLOW_BUNDLE_STORE): a private bucket.
# Runs download their bundle through the API with their run token, so only the control
# plane's role reads and writes it.

resource "aws_s3_bucket" "bundles" {
  bucket_prefix = "${var.name}-bundles-"
  force_destroy = true # bundles can be uploaded again; `terraform destroy` should not stall on them
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "bundles" {
  bucket                  = aws_s3_bucket.bundles.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "bundles" {
  bucket = aws_s3_bucket.bundles.id

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}
