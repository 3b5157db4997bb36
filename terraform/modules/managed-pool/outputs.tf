output "pool_name" {
  description = "The pool's name in pushflow."
  value       = var.name
}

output "job_variables" {
  description = "The pool's defaults, as registered."
  value       = local.job_variables
}

output "registration_input" {
  description = "The `upsert-pool` invocation the control plane receives."
  value       = aws_lambda_invocation.this.input
}
