output "api_url" {
  description = "The API's base URL (PUSHFLOW_API_URL for the CLI)."
  value       = local.api_url
}

output "api_key_secret_arn" {
  description = "Secrets Manager secret holding the admin API key (PUSHFLOW_API_KEY for the CLI)."
  value       = aws_secretsmanager_secret.api_key.arn
}

output "function_name" {
  description = "The control plane function, once its database is migrated (pool modules' `control_plane_function_name`)."
  value       = aws_lambda_invocation.migrate.function_name
}

output "function_arn" {
  description = "ARN of the control plane function."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the function's IAM role (trust it from Google or Azure for keyless access)."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the function's IAM role."
  value       = aws_iam_role.this.name
}

output "database_secret_arn" {
  description = "Secrets Manager secret with the database credentials."
  value       = local.database_secret_arn
}

output "dispatch_queue_url" {
  description = "SQS queue delivering runs due before the next tick."
  value       = aws_sqs_queue.dispatch.url
}

output "dead_letter_queue_url" {
  description = "Where dispatch messages go after failing 5 times."
  value       = aws_sqs_queue.dead_letter.url
}

output "security_group_id" {
  description = "The function's security group (open a database or VPC endpoint to it)."
  value       = aws_security_group.function.id
}
