# Values the mocked azurerm provider returns for what the modules read back.

mock_data "azurerm_client_config" {
  defaults = {
    subscription_id = "00000000-0000-0000-0000-000000000001"
    tenant_id       = "00000000-0000-0000-0000-000000000002"
  }
}
mock_resource "azurerm_user_assigned_identity" {
  defaults = { id = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/pushflow-aci/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pushflow-aci-runs" }
}
