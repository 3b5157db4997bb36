# An Azure Container Instances push pool: the resource group the container groups are
# created in, the identity the containers run as, optionally a subnet, and the control
# plane's access, scoped to that group.

data "azurerm_client_config" "current" {}

locals {
  create_principal = var.control_plane_principal_id == null
  principal_id     = local.create_principal ? azuread_service_principal.this[0].object_id : var.control_plane_principal_id

  # Names and types are the `aci` job template's (push_pools/aci/job.py).
  job_variables = merge(
    {
      subscription_id = data.azurerm_client_config.current.subscription_id
      resource_group  = azurerm_resource_group.this.name
      location        = var.location
      identity        = azurerm_user_assigned_identity.runtime.id
      subnet_ids      = azurerm_subnet.this[*].id
    },
    var.image == null ? {} : { image = var.image },
    var.job_variables,
  )
}

resource "azurerm_resource_group" "this" {
  name     = "pushflow-${var.name}"
  location = var.location
  tags     = var.tags
}

# The containers run as this identity (grant it what the flows need).
resource "azurerm_user_assigned_identity" "runtime" {
  name                = "pushflow-${var.name}-runs"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  tags                = var.tags
}

# The control plane creates, reads and deletes container groups in this group only.
resource "azurerm_role_assignment" "control_plane" {
  scope                = azurerm_resource_group.this.id
  role_definition_name = "Contributor"
  principal_id         = local.principal_id
}

resource "azurerm_virtual_network" "this" {
  count = var.subnet_address_prefixes == null ? 0 : 1

  name                = "pushflow-${var.name}"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  address_space       = var.subnet_address_prefixes
  tags                = var.tags
}

resource "azurerm_subnet" "this" {
  count = var.subnet_address_prefixes == null ? 0 : 1

  name                 = "runs"
  resource_group_name  = azurerm_resource_group.this.name
  virtual_network_name = azurerm_virtual_network.this[0].name
  address_prefixes     = var.subnet_address_prefixes

  delegation {
    name = "container-instances"
    service_delegation {
      name    = "Microsoft.ContainerInstance/containerGroups"
      actions = ["Microsoft.Network/virtualNetworks/subnets/action"]
    }
  }
}
