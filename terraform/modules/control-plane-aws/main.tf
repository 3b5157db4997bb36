# The control plane on AWS Lambda: one function serves the HTTPS API (through mangum),
# EventBridge ticks, SQS deliveries of runs due soon, and direct invocations.

data "aws_region" "current" {}
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

data "aws_subnet" "first" {
  id = var.subnet_ids[0]
}

locals {
  handler = "control_plane.aws_lambda.handler"
  vpc_id  = data.aws_subnet.first.vpc_id

  # Every PUSHFLOW_* name here is a field of control_plane.settings.Settings
  # (tests/terraform checks it). Secrets travel by ARN, never as values.
  environment = merge(
    {
      PUSHFLOW_RUN_LOOPS           = "false" # no loop threads on Lambda: the tick drives the passes
      PUSHFLOW_API_URL             = local.api_url
      PUSHFLOW_API_KEY_SECRET_ARN  = aws_secretsmanager_secret.api_key.arn
      PUSHFLOW_SERVER_SECRET_ARN   = aws_secretsmanager_secret.server_secret.arn
      PUSHFLOW_DATABASE_URL        = local.database_url
      PUSHFLOW_DATABASE_SECRET_ARN = local.database_secret_arn
      PUSHFLOW_DISPATCH_QUEUE_URL  = aws_sqs_queue.dispatch.url
      PUSHFLOW_TICK_INTERVAL       = tostring(var.tick_minutes * 60)
      PUSHFLOW_BUNDLE_STORE        = "s3://${aws_s3_bucket.bundles.bucket}"
    },
    local.google_environment,
    var.azure_credentials_secret_arn == null ? {} : { PUSHFLOW_AZURE_CREDENTIALS_SECRET_ARN = var.azure_credentials_secret_arn },
    var.settings,
  )
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_security_group" "function" {
  name        = "${var.name}-function"
  description = "pushflow control plane function: outbound to the database and AWS APIs"
  vpc_id      = local.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "function" {
  security_group_id = aws_security_group.function.id
  description       = "Database, AWS APIs and the clouds the pools run in"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_lambda_function" "this" {
  function_name = var.name
  role          = aws_iam_role.this.arn
  architectures = [var.architecture]
  memory_size   = var.memory_size
  timeout       = var.timeout

  package_type     = var.image_uri == null ? "Zip" : "Image"
  filename         = var.package_path
  source_code_hash = var.package_path == null ? null : filebase64sha256(var.package_path)
  handler          = var.image_uri == null ? local.handler : null
  runtime          = var.image_uri == null ? var.python_runtime : null
  image_uri        = var.image_uri
  layers           = aws_lambda_layer_version.google[*].arn

  dynamic "image_config" {
    for_each = var.image_uri == null ? [] : [local.handler]
    content {
      command = [image_config.value]
    }
  }

  environment {
    variables = local.environment
  }

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.function.id]
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = (var.package_path == null) != (var.image_uri == null)
      error_message = "Give exactly one of package_path (the zip from `pushflow lambda package`) and image_uri."
    }
  }

  depends_on = [aws_iam_role_policy.this]
}

# Brings the database schema to the newest revision on every apply that changes the code.
resource "aws_lambda_invocation" "migrate" {
  function_name = aws_lambda_function.this.function_name
  input         = jsonencode({ pushflow = "migrate" })

  triggers = {
    code = coalesce(aws_lambda_function.this.source_code_hash, aws_lambda_function.this.image_uri)
  }

  depends_on = [aws_rds_cluster_instance.this]
}
