# The multi-cloud example planned and applied with mocked providers;
# tests/terraform/test_examples.py checks its state against the Python side.

mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

mock_provider "google" {
  source = "../../tests/mocks/google"
}

mock_provider "azurerm" {
  source = "../../tests/mocks/azurerm"
}

mock_provider "azuread" {}
mock_provider "random" {}
mock_provider "archive" {}

variables {
  region                = "eu-west-1"
  private_subnet_ids    = ["subnet-0a", "subnet-0b"]
  run_subnet_ids        = ["subnet-1a"]
  package_path          = "main.tf" # any file: only its hash is read here
  gcp_project           = "acme-flows"
  gcp_region            = "europe-west1"
  azure_subscription_id = "00000000-0000-0000-0000-000000000001"
  azure_location        = "westeurope"
  images = {
    ecs       = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flows:1"
    cloud_run = "europe-docker.pkg.dev/acme-flows/flows/flows:1"
    aci       = "acmeflows.azurecr.io/flows:1"
  }
}

run "apply" {
  command = apply

  assert {
    condition     = output.pools == { aws = "fargate", gcp = "cloud-run", azure = "aci" }
    error_message = "three pools"
  }

  assert {
    condition     = jsondecode(module.cloud_run_pool.credential_configuration).type == "external_account"
    error_message = "Cloud Run access is keyless"
  }

  assert {
    condition     = module.aci_pool.credentials_secret_arn != null
    error_message = "the Azure client secret is kept in Secrets Manager"
  }
}
