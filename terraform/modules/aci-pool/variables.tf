variable "name" {
  description = "Pool name in pushflow (`pushflow deploy --pool NAME`); also names the resource group and identities."
  type        = string
  default     = "aci"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "Use 2-31 lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "location" {
  description = "Azure region the container groups run in, e.g. westeurope."
  type        = string
}

variable "image" {
  description = "Default container image for runs (pushflow installed). Null: each deployment names its image."
  type        = string
  default     = null
}

variable "subnet_address_prefixes" {
  description = "Run the containers in a new virtual network subnet (delegated to Container Instances) with these prefixes, e.g. [\"10.40.1.0/24\"]. Null: public container groups, no network."
  type        = list(string)
  default     = null
}

variable "control_plane_principal_id" {
  description = "Object id of an existing Entra ID service principal the control plane signs in as. Null: create an application and service principal, with a client secret kept in AWS Secrets Manager."
  type        = string
  default     = null
}

variable "job_variables" {
  description = "More pool defaults, merged over the ones this module sets (see docs/pools/aci.md)."
  type        = any
  default     = {}
}

variable "control_plane_function_name" {
  description = "The control plane's Lambda function (control-plane-aws output `function_name`). When set, `terraform apply` registers the pool with it."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on every Azure and AWS resource this module creates."
  type        = map(string)
  default     = {}
}
