# The function's role grants exactly the AWS operations the control plane calls, no
# wildcard actions. tests/terraform/test_iam.py compares these actions with the calls
# recorded while the Lambda and ECS tests run against moto (tests/terraform/aws_calls.json)
# plus the ones the Lambda service makes on the role's behalf.

locals {
  arn_prefix = "arn:${data.aws_partition.current.partition}"
  region     = data.aws_region.current.region
  account    = data.aws_caller_identity.current.account_id

  statements = concat(
    [
      {
        Sid    = "RunsOnEcs" # push_pools/ecs: submit, status, cancel, release
        Effect = "Allow"
        Action = [
          "ecs:DeregisterTaskDefinition",
          "ecs:DescribeTaskDefinition",
          "ecs:DescribeTasks",
          "ecs:ListTasks",
          "ecs:RegisterTaskDefinition",
          "ecs:RunTask",
          "ecs:StopTask",
          "ecs:TagResource",
        ]
        Resource = ["*"] # task definitions are registered per run content; ECS has no finer scope for Describe*
      },
      {
        Sid      = "ReadSecrets" # the admin key, the server secret and the database credentials, read at cold start
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = compact([aws_secretsmanager_secret.api_key.arn, aws_secretsmanager_secret.server_secret.arn, local.database_secret_arn, var.azure_credentials_secret_arn])
      },
      {
        Sid      = "DispatchQueue" # the tick sends runs due soon; Lambda's event source mapping receives them
        Effect   = "Allow"
        Action   = ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:SendMessage"]
        Resource = [aws_sqs_queue.dispatch.arn]
      },
      {
        Sid      = "BundleObjects" # control_plane/bundles: uploads from `pushflow deploy`, downloads by runs
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject"]
        Resource = ["${aws_s3_bucket.bundles.arn}/bundles/*"]
      },
      {
        Sid      = "BundleBucket" # without it, reading a missing bundle answers AccessDenied, not NoSuchKey
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [aws_s3_bucket.bundles.arn]
      },
      {
        Sid      = "OwnLogs" # the Lambda service writes the function's output
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.this.arn}:*"]
      },
      {
        Sid    = "VpcNetworkInterfaces" # the Lambda service attaches the function to the subnets
        Effect = "Allow"
        Action = [
          "ec2:AssignPrivateIpAddresses",
          "ec2:CreateNetworkInterface",
          "ec2:DeleteNetworkInterface",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeSubnets",
          "ec2:UnassignPrivateIpAddresses",
        ]
        Resource = ["*"] # AWS: these actions do not support resource-level permissions
      },
    ],
    length(var.run_log_group_arns) == 0 ? [] : [{
      Sid      = "RunLogs" # `pushflow runs logs` for ECS runs
      Effect   = "Allow"
      Action   = ["logs:GetLogEvents"]
      Resource = [for arn in var.run_log_group_arns : "${arn}:*"]
    }],
    length(var.pool_role_arns) == 0 ? [] : [{
      Sid      = "PassPoolRoles" # RunTask hands the pools' execution and task roles to ECS
      Effect   = "Allow"
      Action   = ["iam:PassRole"]
      Resource = var.pool_role_arns
      Condition = {
        StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" }
      }
    }],
    var.run_token_secret_prefix == null ? [] : [{
      Sid      = "RunTokenSecrets" # ECS job variable run_token_secret_prefix
      Effect   = "Allow"
      Action   = ["secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:PutSecretValue", "secretsmanager:TagResource"]
      Resource = ["${local.arn_prefix}:secretsmanager:${local.region}:${local.account}:secret:${var.run_token_secret_prefix}*"]
    }],
  )
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "control-plane"
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}
