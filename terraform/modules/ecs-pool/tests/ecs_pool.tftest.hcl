# The ECS pool on its own: what it registers, and the run-token option.

mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  name                        = "fargate"
  subnet_ids                  = ["subnet-1a"]
  image                       = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flows:1"
  control_plane_function_name = "pushflow"
}

run "registers_the_pool" {
  command = apply

  assert {
    condition     = jsondecode(aws_lambda_invocation.register[0].input).pushflow == "upsert-pool" && jsondecode(aws_lambda_invocation.register[0].input).type == "ecs"
    error_message = "apply registers an ecs pool"
  }

  assert {
    condition     = jsondecode(aws_lambda_invocation.register[0].input).defaults.security_groups == [aws_security_group.this.id]
    error_message = "runs start in the pool's security group"
  }

  assert {
    condition     = length(aws_iam_role_policy.execution_run_tokens) == 0
    error_message = "no run-token secrets unless asked for"
  }
}

run "run_tokens_in_secrets_manager" {
  command = apply

  variables {
    run_token_secret_prefix = "pushflow/run-tokens/"
  }

  assert {
    condition     = output.job_variables.run_token_secret_prefix == "pushflow/run-tokens/"
    error_message = "the job variable is set"
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.execution_run_tokens[0].policy).Statement[0].Resource[0] == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pushflow/run-tokens/*"
    error_message = "ECS may read exactly the run-token secrets"
  }
}

run "no_registration_without_a_control_plane" {
  command = plan

  variables {
    control_plane_function_name = null
  }

  assert {
    condition     = length(aws_lambda_invocation.register) == 0
    error_message = "nothing to register with"
  }
}
