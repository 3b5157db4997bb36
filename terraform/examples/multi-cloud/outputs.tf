output "api_url" {
  description = "PUSHFLOW_API_URL for the CLI."
  value       = module.control_plane.api_url
}

output "api_key_secret_arn" {
  description = "Read the admin key with: aws secretsmanager get-secret-value --secret-id <this> --query SecretString --output text"
  value       = module.control_plane.api_key_secret_arn
}

output "pools" {
  description = "The registered pools, by cloud."
  value = {
    aws   = module.ecs_pool.pool_name
    gcp   = module.cloud_run_pool.pool_name
    azure = module.aci_pool.pool_name
  }
}
