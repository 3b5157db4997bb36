# Keyless access from AWS: Google's STS accepts a signed AWS GetCallerIdentity request
# from the control plane's role and lets it impersonate the control plane's service
# account. google-auth does this by itself from a credential configuration file (the
# `credential_configuration` output; no secret in it), reading the AWS credentials Lambda
# puts in the environment.

resource "google_iam_workload_identity_pool" "this" {
  count = local.federated ? 1 : 0

  project                   = var.project
  workload_identity_pool_id = "pushflow-${var.name}"
  display_name              = "pushflow control plane"
  description               = "The pushflow control plane on AWS"
}

resource "google_iam_workload_identity_pool_provider" "aws" {
  count = local.federated ? 1 : 0

  project                            = var.project
  workload_identity_pool_id          = google_iam_workload_identity_pool.this[0].workload_identity_pool_id
  workload_identity_pool_provider_id = "aws"
  display_name                       = "AWS account ${local.aws_account}"

  aws {
    account_id = local.aws_account
  }

  attribute_mapping = {
    "google.subject"     = "assertion.arn"
    "attribute.aws_role" = "assertion.arn.contains('assumed-role') ? assertion.arn.extract('{account_arn}assumed-role/') + 'assumed-role/' + assertion.arn.extract('assumed-role/{role_name}/') : assertion.arn"
  }
  # Only the control plane's role, not every identity in the account.
  attribute_condition = "attribute.aws_role == 'arn:aws:sts::${local.aws_account}:assumed-role/${local.aws_role_name}'"
}

resource "google_service_account_iam_member" "federated" {
  count = local.federated ? 1 : 0

  service_account_id = google_service_account.this.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.this[0].name}/attribute.aws_role/arn:aws:sts::${local.aws_account}:assumed-role/${local.aws_role_name}"
}

locals {
  credential_configuration = local.federated ? jsonencode({
    type               = "external_account"
    audience           = "//iam.googleapis.com/projects/${data.google_project.this.number}/locations/global/workloadIdentityPools/${google_iam_workload_identity_pool.this[0].workload_identity_pool_id}/providers/${google_iam_workload_identity_pool_provider.aws[0].workload_identity_pool_provider_id}"
    subject_token_type = "urn:ietf:params:aws:token-type:aws4_request"
    token_url          = "https://sts.googleapis.com/v1/token"
    credential_source = {
      environment_id                 = "aws1"
      regional_cred_verification_url = "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"
    }
    service_account_impersonation_url = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${google_service_account.this.email}:generateAccessToken"
  }) : null
}
