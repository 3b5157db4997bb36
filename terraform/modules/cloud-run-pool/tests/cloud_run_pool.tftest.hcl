# The Cloud Run pool on its own: federation from one AWS role only, and the key-based
# alternative.

mock_provider "google" {
  source = "../../tests/mocks/google"
}

mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  project                    = "acme-flows"
  region                     = "europe-west1"
  image                      = "europe-docker.pkg.dev/acme-flows/flows/flows:1"
  aws_control_plane_role_arn = "arn:aws:iam::123456789012:role/pushflow"
}

run "federated" {
  command = apply

  assert {
    condition     = google_iam_workload_identity_pool_provider.aws[0].aws[0].account_id == "123456789012"
    error_message = "the provider trusts the control plane's AWS account"
  }

  assert {
    condition     = google_iam_workload_identity_pool_provider.aws[0].attribute_condition == "attribute.aws_role == 'arn:aws:sts::123456789012:assumed-role/pushflow'"
    error_message = "only the control plane's role, not the whole account"
  }

  assert {
    condition     = google_service_account_iam_member.act_as_runtime.role == "roles/iam.serviceAccountUser" && google_service_account_iam_member.act_as_runtime.service_account_id == google_service_account.runtime.name
    error_message = "serviceAccountUser on the runtime account only"
  }

  assert {
    condition     = google_project_iam_member.run_developer.role == "roles/run.developer" && google_project_iam_member.logging_viewer.role == "roles/logging.viewer"
    error_message = "the control plane's project roles"
  }
}

run "with_a_key_instead" {
  command = plan

  variables {
    aws_federation             = false
    aws_control_plane_role_arn = null
  }

  assert {
    condition     = length(google_iam_workload_identity_pool.this) == 0 && output.credential_configuration == null
    error_message = "no federation without it"
  }
}

run "federation_needs_the_role" {
  command = plan

  variables {
    aws_control_plane_role_arn = null
  }

  expect_failures = [google_service_account.this]
}
