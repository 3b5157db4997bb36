# `terraform test` with mocked providers: the whole example plans and applies, and what
# the control plane reads from it is right. tests/terraform/test_examples.py runs this and
# checks the resulting state against the Python side (settings, job schema, IAM).

mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

mock_provider "random" {}

variables {
  region             = "eu-west-1"
  private_subnet_ids = ["subnet-0a", "subnet-0b"]
  run_subnet_ids     = ["subnet-1a"]
  package_path       = "main.tf" # any file: only its hash is read here
  image              = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flows:1"
}

run "apply" {
  command = apply

  assert {
    condition     = module.control_plane.api_url == "https://abc123.execute-api.eu-west-1.amazonaws.com/api"
    error_message = "api_url must be the HTTP API's endpoint + /api"
  }

  assert {
    condition     = output.api_key_secret_arn != null && output.pool_name == "fargate"
    error_message = "outputs missing"
  }

  assert {
    condition     = module.control_plane.function_name == "pushflow"
    error_message = "function_name must name the function"
  }
}
