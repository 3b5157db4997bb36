# A Cloud Run jobs push pool: the service account runs act as, the control plane's own
# service account with the roles it needs, and keyless access to it from the control
# plane's AWS role through workload identity federation.

data "google_project" "this" {
  project_id = var.project
}

locals {
  federated = var.aws_federation
  # arn:aws:iam::ACCOUNT:role/NAME -> ACCOUNT, NAME (a role's sessions are assumed-role ARNs)
  role_arn      = coalesce(var.aws_control_plane_role_arn, "arn:aws:iam::none:role/none") # the precondition below reports a missing one
  aws_account   = split(":", local.role_arn)[4]
  aws_role_name = element(split("/", local.role_arn), -1)

  # Names and types are the `cloud-run` job template's (push_pools/cloud_run/job.py).
  job_variables = merge(
    {
      project         = var.project
      region          = var.region
      service_account = google_service_account.runtime.email
    },
    var.image == null ? {} : { image = var.image },
    var.job_variables,
  )
}

# The flow code runs as this account.
resource "google_service_account" "runtime" {
  project      = var.project
  account_id   = "${var.name}-runs"
  display_name = "pushflow ${var.name} runs"
}

resource "google_project_iam_member" "runtime" {
  for_each = toset(var.runtime_roles)

  project = var.project
  role    = each.value
  member  = "serviceAccount:${google_service_account.runtime.email}"
}

# The control plane acts as this account: it creates, runs and deletes a job per run and
# reads the run's logs.
resource "google_service_account" "this" {
  project      = var.project
  account_id   = "${var.name}-control"
  display_name = "pushflow control plane (${var.name} pool)"

  lifecycle {
    precondition {
      condition     = !var.aws_federation || var.aws_control_plane_role_arn != null
      error_message = "aws_federation needs aws_control_plane_role_arn (control-plane-aws output role_arn)."
    }
  }
}

resource "google_project_iam_member" "run_developer" {
  project = var.project
  role    = "roles/run.developer"
  member  = "serviceAccount:${google_service_account.this.email}"
}

resource "google_project_iam_member" "logging_viewer" {
  project = var.project
  role    = "roles/logging.viewer"
  member  = "serviceAccount:${google_service_account.this.email}"
}

# Jobs run as the runtime account: the control plane must be allowed to act as it, and
# only as it.
resource "google_service_account_iam_member" "act_as_runtime" {
  service_account_id = google_service_account.runtime.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.this.email}"
}
