output "api_url" {
  description = "PUSHFLOW_API_URL for the CLI."
  value       = module.control_plane.api_url
}

output "api_key_secret_arn" {
  description = "Read the admin key with: aws secretsmanager get-secret-value --secret-id <this> --query SecretString --output text"
  value       = module.control_plane.api_key_secret_arn
}

output "pool_name" {
  description = "Deploy with `pushflow deploy ... --pool <this>`."
  value       = module.ecs_pool.pool_name
}

output "managed_pool_name" {
  description = "Deploy code with no image: `pushflow deploy ... --pool <this>`."
  value       = module.managed_pool.pool_name
}

output "pool_job_variables" {
  description = "The pool's defaults as registered."
  value       = module.ecs_pool.job_variables
}
