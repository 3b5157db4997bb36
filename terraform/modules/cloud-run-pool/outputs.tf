output "pool_name" {
  description = "The pool's name in pushflow."
  value       = var.name
}

output "job_variables" {
  description = "The pool's defaults, as registered."
  value       = local.job_variables
}

output "runtime_service_account" {
  description = "Email of the service account the flow code runs as."
  value       = google_service_account.runtime.email
}

output "control_plane_service_account" {
  description = "Email of the service account the control plane acts as."
  value       = google_service_account.this.email
}

output "credential_configuration" {
  description = "google-auth credential configuration for the control plane on AWS (no secret inside): control-plane-aws `google_credential_configuration`. Null without federation."
  value       = local.credential_configuration
}
