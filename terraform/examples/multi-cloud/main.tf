# pushflow across three clouds: the control plane on AWS Lambda, and ECS, Cloud Run and
# ACI pools it pushes runs to, each registered. Google trusts the control plane's AWS
# role directly (workload identity federation); Azure signs it in with a client secret
# kept in AWS Secrets Manager.

provider "aws" {
  region = var.region
}

provider "google" {
  project = var.gcp_project
  region  = var.gcp_region
}

provider "azurerm" {
  features {}
  subscription_id = var.azure_subscription_id
}

provider "azuread" {}

module "control_plane" {
  source = "../../modules/control-plane-aws"

  package_path                    = var.package_path
  subnet_ids                      = var.private_subnet_ids
  pool_role_arns                  = module.ecs_pool.pass_role_arns
  run_log_group_arns              = [module.ecs_pool.log_group_arn]
  google_credentials              = true
  google_credential_configuration = module.cloud_run_pool.credential_configuration
  azure_credentials_secret_arn    = module.aci_pool.credentials_secret_arn
}

module "ecs_pool" {
  source = "../../modules/ecs-pool"

  name                        = "fargate"
  subnet_ids                  = var.run_subnet_ids
  image                       = var.images.ecs
  control_plane_function_name = module.control_plane.function_name
}

module "cloud_run_pool" {
  source = "../../modules/cloud-run-pool"

  name                        = "cloud-run"
  project                     = var.gcp_project
  region                      = var.gcp_region
  image                       = var.images.cloud_run
  aws_control_plane_role_arn  = module.control_plane.role_arn
  control_plane_function_name = module.control_plane.function_name
}

module "aci_pool" {
  source = "../../modules/aci-pool"

  name                        = "aci"
  location                    = var.azure_location
  image                       = var.images.aci
  control_plane_function_name = module.control_plane.function_name
}
