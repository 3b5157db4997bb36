variable "name" {
  description = "Pool name in pushflow (`pushflow deploy --pool NAME`); also names the cluster, roles and log group."
  type        = string
  default     = "ecs"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,38}$", var.name))
    error_message = "Use 1-39 lowercase letters, digits and dashes, starting with a letter or digit."
  }
}

variable "subnet_ids" {
  description = "Subnets the run tasks start in (awsvpc). They need a route to the image registry and to the control plane's API URL."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "Give at least one subnet id."
  }
}

variable "assign_public_ip" {
  description = "Give each task a public IP: needed in public subnets without a NAT gateway to pull images and reach the API."
  type        = bool
  default     = true
}

variable "image" {
  description = "Default container image for runs (pushflow installed). Null: each deployment names its image."
  type        = string
  default     = null
}

variable "cpu" {
  description = "Default task CPU units (1024 = one vCPU); a Fargate size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  type        = number
  default     = 256
}

variable "memory" {
  description = "Default task memory in MiB, a size Fargate allows for `cpu`."
  type        = number
  default     = 512
}

variable "launch_type" {
  description = "FARGATE or FARGATE_SPOT (interruptible, cheaper; interrupted runs are retried)."
  type        = string
  default     = "FARGATE"

  validation {
    condition     = contains(["FARGATE", "FARGATE_SPOT"], var.launch_type)
    error_message = "launch_type must be FARGATE or FARGATE_SPOT."
  }
}

variable "task_role_policy_arns" {
  description = "IAM policies for the role the flow code runs as (what flows may do in AWS)."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "How long run logs are kept in CloudWatch Logs."
  type        = number
  default     = 30
}

variable "job_variables" {
  description = "More pool defaults, merged over the ones this module sets (see docs/pools/ecs.md for every job variable)."
  type        = any
  default     = {}
}

variable "run_token_secret_prefix" {
  description = "Pass each run's token as a Secrets Manager secret under this name prefix instead of a task override (the control plane needs the same prefix: control-plane-aws `run_token_secret_prefix`). Null: overrides."
  type        = string
  default     = null
}

variable "control_plane_function_name" {
  description = "The control plane's Lambda function (module control-plane-aws output `function_name`). When set, `terraform apply` registers the pool with it; null: register it yourself with `pushflow pool create`."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on every resource this module creates."
  type        = map(string)
  default     = {}
}
