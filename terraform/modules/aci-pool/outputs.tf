output "pool_name" {
  description = "The pool's name in pushflow."
  value       = var.name
}

output "job_variables" {
  description = "The pool's defaults, as registered."
  value       = local.job_variables
}

output "resource_group_name" {
  description = "Resource group the container groups are created in."
  value       = azurerm_resource_group.this.name
}

output "runtime_identity_id" {
  description = "Resource id of the identity the containers run as."
  value       = azurerm_user_assigned_identity.runtime.id
}

output "runtime_identity_principal_id" {
  description = "Principal id of that identity (grant it roles for what flows do)."
  value       = azurerm_user_assigned_identity.runtime.principal_id
}

output "control_plane_principal_id" {
  description = "Object id of the service principal the control plane signs in as."
  value       = local.principal_id
}

output "credentials_secret_arn" {
  description = "Secrets Manager secret with the control plane's Azure sign-in (control-plane-aws `azure_credentials_secret_arn`); null when `control_plane_principal_id` was given."
  value       = one(aws_secretsmanager_secret.this[*].arn)
}
