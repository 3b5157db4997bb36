# The control plane's Entra ID identity, unless one is given. Azure cannot yet trust the
# AWS role directly (it federates with OIDC issuers; a Lambda has no OIDC token of its
# own), so this is an application with a client secret, kept in AWS Secrets Manager where
# only the control plane's role may read it.

resource "azuread_application" "this" {
  count = local.create_principal ? 1 : 0

  display_name = "pushflow control plane (${var.name} pool)"
}

resource "azuread_service_principal" "this" {
  count = local.create_principal ? 1 : 0

  client_id = azuread_application.this[0].client_id
}

resource "azuread_application_password" "this" {
  count = local.create_principal ? 1 : 0

  application_id = azuread_application.this[0].id
  display_name   = "pushflow control plane"
}

resource "aws_secretsmanager_secret" "this" {
  count = local.create_principal ? 1 : 0

  name_prefix = "pushflow/${var.name}/azure-"
  description = "Azure sign-in of the pushflow control plane: tenant_id, client_id, client_secret"
  tags        = var.tags
}

resource "aws_secretsmanager_secret_version" "this" {
  count = local.create_principal ? 1 : 0

  secret_id = aws_secretsmanager_secret.this[0].id
  secret_string = jsonencode({
    tenant_id     = data.azurerm_client_config.current.tenant_id
    client_id     = azuread_application.this[0].client_id
    client_secret = azuread_application_password.this[0].value
  })
}

# Registers the pool with the control plane on AWS (create or update).
resource "aws_lambda_invocation" "register" {
  count = var.control_plane_function_name == null ? 0 : 1

  function_name = var.control_plane_function_name
  input = jsonencode({
    pushflow    = "upsert-pool"
    name        = var.name
    type        = "aci"
    description = "Azure Container Instances in ${var.location}, group ${azurerm_resource_group.this.name}"
    defaults    = local.job_variables
  })
}
