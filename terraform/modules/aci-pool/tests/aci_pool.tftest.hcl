# The ACI pool on its own: the control plane's access scoped to the pool's group, with a
# created or a given principal, and the optional subnet.

mock_provider "azurerm" {
  source = "../../tests/mocks/azurerm"
}

mock_provider "azuread" {}

mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  location = "westeurope"
  image    = "acmeflows.azurecr.io/flows:1"
}

run "created_principal" {
  command = apply

  assert {
    condition     = azurerm_role_assignment.control_plane.scope == azurerm_resource_group.this.id && azurerm_role_assignment.control_plane.principal_id == azuread_service_principal.this[0].object_id
    error_message = "the created principal gets the role on the pool's group only"
  }

  assert {
    condition     = toset(keys(jsondecode(aws_secretsmanager_secret_version.this[0].secret_string))) == toset(["tenant_id", "client_id", "client_secret"])
    error_message = "the sign-in is kept in Secrets Manager"
  }

  assert {
    condition     = output.job_variables.subnet_ids == []
    error_message = "no subnet unless asked for"
  }
}

run "given_principal_and_subnet" {
  command = plan

  variables {
    control_plane_principal_id = "11111111-1111-1111-1111-111111111111"
    subnet_address_prefixes    = ["10.40.1.0/24"]
  }

  assert {
    condition     = length(azuread_application.this) == 0 && length(aws_secretsmanager_secret.this) == 0
    error_message = "nothing secret is created for a given principal"
  }

  assert {
    condition     = azurerm_subnet.this[0].delegation[0].service_delegation[0].name == "Microsoft.ContainerInstance/containerGroups"
    error_message = "the subnet is delegated to Container Instances"
  }
}
