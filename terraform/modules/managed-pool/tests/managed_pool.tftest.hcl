# The managed pool over an ECS pool's job variables.

mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  inner_type = "ecs"
  inner_job_variables = {
    cluster = "pushflow-fargate"
    subnets = ["subnet-1a"]
    image   = "ignored:1"
    cpu     = 256
  }
  cpu_hours_per_day           = 24
  control_plane_function_name = "pushflow"
}

run "registers" {
  command = apply

  assert {
    condition     = jsondecode(aws_lambda_invocation.this.input).type == "managed" && jsondecode(aws_lambda_invocation.this.input).concurrency_limit == 10
    error_message = "a managed pool with its concurrency limit"
  }

  assert {
    condition     = !contains(keys(output.job_variables.inner_job), "image") && !contains(keys(output.job_variables.inner_job), "cpu")
    error_message = "image and sizes are the managed pool's"
  }
}
