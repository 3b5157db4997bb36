variable "name" {
  description = "Name prefix of every resource (function, queue, secrets, database)."
  type        = string
  default     = "pushflow"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}$", var.name))
    error_message = "Use 1-31 lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "package_path" {
  description = "Path of the zip `pushflow lambda package -o FILE` built. Give this or `image_uri`."
  type        = string
  default     = null
}

variable "image_uri" {
  description = "ECR image of the control plane (CMD control_plane.aws_lambda.handler), instead of a zip."
  type        = string
  default     = null
}

variable "architecture" {
  description = "Lambda architecture; must match the package (`pushflow lambda package --arch`)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "python_runtime" {
  description = "Lambda Python runtime of the zip (`pushflow lambda package --python`)."
  type        = string
  default     = "python3.12"
}

variable "memory_size" {
  description = "Function memory in MB (CPU grows with it)."
  type        = number
  default     = 1024
}

variable "timeout" {
  description = "Function timeout in seconds (API requests and ticks)."
  type        = number
  default     = 60
}

variable "subnet_ids" {
  description = "Private subnets for the function and the database. They need a route to AWS APIs (a NAT gateway, or VPC endpoints for ECS, SQS, Secrets Manager, CloudWatch Logs and STS)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Give at least two subnets in different availability zones (Aurora needs them)."
  }
}

variable "database_secret_arn" {
  description = "An existing PostgreSQL database: a Secrets Manager secret in RDS form (host, port, dbname, username, password). Null: create Aurora PostgreSQL Serverless v2."
  type        = string
  default     = null
}

variable "database_security_group_id" {
  description = "With `database_secret_arn`: the existing database's security group, opened to the function on 5432. Null: open it yourself."
  type        = string
  default     = null
}

variable "aurora_engine_version" {
  description = "Aurora PostgreSQL version (scaling to 0 ACU needs 13.15, 14.12, 15.7, 16.3 or newer)."
  type        = string
  default     = "16.6"
}

variable "aurora_min_capacity" {
  description = "Least Aurora capacity in ACUs; 0 pauses the database when idle (the first request then waits ~15 s)."
  type        = number
  default     = 0
}

variable "aurora_max_capacity" {
  description = "Most Aurora capacity in ACUs."
  type        = number
  default     = 2
}

variable "aurora_seconds_until_auto_pause" {
  description = "Idle seconds before Aurora pauses at 0 ACU (300-86400)."
  type        = number
  default     = 900
}

variable "deletion_protection" {
  description = "Protect the Aurora cluster from `terraform destroy`."
  type        = bool
  default     = false
}

variable "pool_role_arns" {
  description = "Roles the control plane may pass to ECS when it starts runs (ecs-pool output `pass_role_arns`). The only roles it can pass."
  type        = list(string)
  default     = []
}

variable "run_log_group_arns" {
  description = "CloudWatch Logs groups the control plane reads run output from (ecs-pool `log_group_arn`)."
  type        = list(string)
  default     = []
}

variable "run_token_secret_prefix" {
  description = "Allow ECS pools to pass run tokens as Secrets Manager secrets under this name prefix (job variable `run_token_secret_prefix`). Null: tokens travel as task overrides."
  type        = string
  default     = null
}

variable "google_credentials" {
  description = "Ship `google_credential_configuration` to the function (Cloud Run pools). A flag of its own because the configuration is unknown until the Google resources exist."
  type        = bool
  default     = false
}

variable "google_credential_configuration" {
  description = "Keyless access to Google Cloud for Cloud Run pools: the cloud-run-pool output `credential_configuration` (no secret inside). Shipped to the function in a layer; GOOGLE_APPLICATION_CREDENTIALS points at it."
  type        = string
  default     = null
}

variable "azure_credentials_secret_arn" {
  description = "Azure sign-in for ACI pools: the aci-pool output `credentials_secret_arn` (a Secrets Manager secret with tenant_id, client_id, client_secret), read by the function at cold start (PUSHFLOW_AZURE_CREDENTIALS_SECRET_ARN)."
  type        = string
  default     = null
}

variable "tick_minutes" {
  description = "Minutes between ticks (EventBridge Scheduler); each tick schedules, dispatches and reconciles, and queues the runs due before the next one."
  type        = number
  default     = 1

  validation {
    condition     = var.tick_minutes >= 1 && floor(var.tick_minutes) == var.tick_minutes
    error_message = "tick_minutes must be a whole number of minutes, at least 1."
  }
}

variable "log_retention_days" {
  description = "How long the function's logs are kept."
  type        = number
  default     = 30
}

variable "settings" {
  description = "More control plane settings, by their PUSHFLOW_* environment names (docs/settings.md). Secrets do not belong here."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags on every resource this module creates."
  type        = map(string)
  default     = {}
}
