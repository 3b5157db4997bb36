# Values the mocked Google provider returns for what the modules read back.

mock_data "google_project" {
  defaults = { number = "123456789012" }
}
mock_resource "google_service_account" {
  defaults = {
    email = "pushflow@acme-flows.iam.gserviceaccount.com"
    name  = "projects/acme-flows/serviceAccounts/pushflow@acme-flows.iam.gserviceaccount.com"
  }
}
mock_resource "google_iam_workload_identity_pool" {
  defaults = { name = "projects/123456789012/locations/global/workloadIdentityPools/pushflow-cloud-run" }
}
