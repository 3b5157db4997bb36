# pushflow on AWS: the control plane on Lambda, an ECS (Fargate) pool and a managed pool
# over it, both registered.

provider "aws" {
  region = var.region
}

module "control_plane" {
  source = "../../modules/control-plane-aws"

  package_path       = var.package_path
  subnet_ids         = var.private_subnet_ids
  pool_role_arns     = module.ecs_pool.pass_role_arns
  run_log_group_arns = [module.ecs_pool.log_group_arn]
}

module "ecs_pool" {
  source = "../../modules/ecs-pool"

  name                        = "fargate"
  subnet_ids                  = var.run_subnet_ids
  image                       = var.image
  control_plane_function_name = module.control_plane.function_name
}

# Authors deploy code here with no image: the stock runtime image runs it on the ECS pool.
module "managed_pool" {
  source = "../../modules/managed-pool"

  name                        = "managed"
  inner_type                  = "ecs"
  inner_job_variables         = module.ecs_pool.job_variables
  control_plane_function_name = module.control_plane.function_name
}
