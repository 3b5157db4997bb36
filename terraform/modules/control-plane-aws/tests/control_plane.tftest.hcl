# The control plane module on its own, every option on (the IAM check in
# tests/terraform/test_iam.py reads the policy from the "all_options" run).

mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

mock_provider "random" {}

variables {
  package_path            = "main.tf" # any file: only its hash is read here
  subnet_ids              = ["subnet-0a", "subnet-0b"]
  pool_role_arns          = ["arn:aws:iam::123456789012:role/pushflow-fargate-task"]
  run_log_group_arns      = ["arn:aws:logs:eu-west-1:123456789012:log-group:/pushflow/fargate"]
  run_token_secret_prefix = "pushflow/run-tokens/"
}

run "all_options" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.handler == "control_plane.aws_lambda.handler"
    error_message = "the handler must be control_plane.aws_lambda.handler"
  }

  assert {
    condition     = aws_scheduler_schedule.tick.target[0].arn == aws_lambda_function.this.arn && jsondecode(aws_scheduler_schedule.tick.target[0].input) == { pushflow = "tick" }
    error_message = "the tick must invoke the function with {\"pushflow\": \"tick\"}"
  }

  assert {
    condition     = jsondecode(aws_lambda_invocation.migrate.input) == { pushflow = "migrate" }
    error_message = "apply must run {\"pushflow\": \"migrate\"}"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.dispatch.event_source_arn == aws_sqs_queue.dispatch.arn
    error_message = "the dispatch queue must deliver to the function"
  }

  assert {
    condition     = jsondecode(aws_sqs_queue.dispatch.redrive_policy).deadLetterTargetArn == aws_sqs_queue.dead_letter.arn
    error_message = "the dispatch queue must have the dead-letter queue"
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement :
      alltrue([for a in s.Action : !strcontains(a, "*")])
    ])
    error_message = "no wildcard actions"
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement :
      sort(s.Resource) == sort(var.pool_role_arns) if contains(s.Action, "iam:PassRole")
    ])
    error_message = "iam:PassRole only for the pools' roles"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 30
    error_message = "logs must expire"
  }

  assert {
    condition     = length(aws_rds_cluster.this) == 1 && aws_rds_cluster.this[0].serverlessv2_scaling_configuration[0].min_capacity == 0
    error_message = "a new Aurora Serverless v2 cluster that scales to 0"
  }
}

run "existing_database" {
  command = plan

  variables {
    database_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-1"
  }

  assert {
    condition     = length(aws_rds_cluster.this) == 0 && aws_lambda_function.this.environment[0].variables.PUSHFLOW_DATABASE_SECRET_ARN == var.database_secret_arn
    error_message = "an existing database is used by its secret, and none is created"
  }
}

run "zip_or_image_not_both" {
  command = plan

  variables {
    image_uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/pushflow:1"
  }

  expect_failures = [aws_lambda_function.this]
}
