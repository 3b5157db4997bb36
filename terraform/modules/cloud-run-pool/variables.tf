variable "name" {
  description = "Pool name in pushflow (`pushflow deploy --pool NAME`); also names the service accounts."
  type        = string
  default     = "cloud-run"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{3,20}$", var.name))
    error_message = "Use 4-21 lowercase letters, digits and dashes, starting with a letter (it names service accounts)."
  }
}

variable "project" {
  description = "Google Cloud project id the run jobs are created in."
  type        = string
}

variable "region" {
  description = "Cloud Run region, e.g. europe-west1."
  type        = string
}

variable "image" {
  description = "Default container image for runs (pushflow installed). Null: each deployment names its image."
  type        = string
  default     = null
}

variable "runtime_roles" {
  description = "Project roles for the service account the flow code runs as (what flows may do in Google Cloud)."
  type        = list(string)
  default     = []
}

variable "job_variables" {
  description = "More pool defaults, merged over the ones this module sets (see docs/pools/cloud-run.md)."
  type        = any
  default     = {}
}

variable "aws_federation" {
  description = "Give the control plane's AWS role keyless access through workload identity federation (needs `aws_control_plane_role_arn`). False: use a service account key instead (see README). A flag of its own because the role's ARN is unknown until it exists."
  type        = bool
  default     = true
}

variable "aws_control_plane_role_arn" {
  description = "IAM role of the control plane on AWS (control-plane-aws output `role_arn`)."
  type        = string
  default     = null
}

variable "control_plane_function_name" {
  description = "The control plane's Lambda function (control-plane-aws output `function_name`). When set, `terraform apply` registers the pool with it."
  type        = string
  default     = null
}
