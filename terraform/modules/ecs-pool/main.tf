# An ECS (Fargate) push pool: where the control plane starts one task per flow run.

data "aws_region" "current" {}

data "aws_subnet" "first" {
  id = var.subnet_ids[0]
}

locals {
  log_group = "/pushflow/${var.name}"

  # The pool's defaults: every run of a deployment in this pool starts from them.
  # Names and types are the `ecs` job template's (push_pools/ecs/job.py).
  job_variables = merge(
    {
      cluster            = aws_ecs_cluster.this.name
      launch_type        = var.launch_type
      subnets            = var.subnet_ids
      security_groups    = [aws_security_group.this.id]
      assign_public_ip   = var.assign_public_ip
      cpu                = var.cpu
      memory             = var.memory
      execution_role_arn = aws_iam_role.execution.arn
      task_role_arn      = aws_iam_role.task.arn
      log_group          = aws_cloudwatch_log_group.this.name
      region             = data.aws_region.current.region
    },
    var.image == null ? {} : { image = var.image },
    var.run_token_secret_prefix == null ? {} : { run_token_secret_prefix = var.run_token_secret_prefix },
    var.job_variables,
  )
}

resource "aws_ecs_cluster" "this" {
  name = "pushflow-${var.name}"
  tags = var.tags

  setting {
    name  = "containerInsights"
    value = "disabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_security_group" "this" {
  name        = "pushflow-${var.name}-runs"
  description = "pushflow ${var.name} run tasks: no inbound, outbound to the registry, the API and what flows call"
  vpc_id      = data.aws_subnet.first.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.this.id
  description       = "Images, the control plane's API and whatever the flows call"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# ECS uses this role to pull the image and write the container's output to the log group.
resource "aws_iam_role" "execution" {
  name               = "pushflow-${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

# With run tokens in Secrets Manager, ECS reads each run's secret when it starts the task.
resource "aws_iam_role_policy" "execution_run_tokens" {
  count = var.run_token_secret_prefix == null ? 0 : 1

  name = "read-run-tokens"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = ["arn:${data.aws_partition.current.partition}:secretsmanager:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:secret:${var.run_token_secret_prefix}*"]
    }]
  })
}

# The flow code runs as this role.
resource "aws_iam_role" "task" {
  name               = "pushflow-${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "task" {
  for_each = toset(var.task_role_policy_arns)

  role       = aws_iam_role.task.name
  policy_arn = each.value
}

# Registers the pool with the control plane (create or update), so `terraform apply`
# leaves a pool ready to deploy to. Runs again whenever the pool's defaults change.
resource "aws_lambda_invocation" "register" {
  count = var.control_plane_function_name == null ? 0 : 1

  function_name = var.control_plane_function_name
  input = jsonencode({
    pushflow    = "upsert-pool"
    name        = var.name
    type        = "ecs"
    description = "ECS ${var.launch_type} in ${data.aws_region.current.region}, cluster ${aws_ecs_cluster.this.name}"
    defaults    = local.job_variables
  })
}
