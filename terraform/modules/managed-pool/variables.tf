variable "name" {
  description = "Pool name in pushflow: what authors deploy to (`pushflow deploy --pool NAME`)."
  type        = string
  default     = "managed"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,62}$", var.name))
    error_message = "Use 1-63 lowercase letters, digits and dashes."
  }
}

variable "inner_type" {
  description = "The push pool type that runs the containers: ecs, cloud-run or aci."
  type        = string

  validation {
    condition     = contains(["ecs", "cloud-run", "aci"], var.inner_type)
    error_message = "inner_type must be ecs, cloud-run or aci."
  }
}

variable "inner_job_variables" {
  description = "The inner pool's job variables: the `job_variables` output of ecs-pool, cloud-run-pool or aci-pool. Image and sizes are the managed pool's and are dropped here."
  type        = any
}

variable "image" {
  description = "The stock pushflow runtime image runs use (docker/runtime.Dockerfile), e.g. mirrored to your registry. Null: the pool type's default."
  type        = string
  default     = null
}

variable "max_run_seconds" {
  description = "Stop and crash runs that run longer than this."
  type        = number
  default     = 3600
}

variable "cpu_hours_per_day" {
  description = "vCPU-hours the pool's runs may use a day; new runs wait once it is spent. Null: no daily quota."
  type        = number
  default     = null
}

variable "deps_cache" {
  description = "A volume for the runtime's requirements cache, in the inner pool's shape (docs/pools/managed.md): ecs { file_system_id = \"fs-...\" } (EFS), cloud-run { bucket = \"...\" } or { nfs_server, nfs_path }, aci { storage_account_name, share_name, storage_account_key }. Null: each run installs its requirements again."
  type        = any
  default     = null
}

variable "concurrency_limit" {
  description = "At most this many runs of the pool at once. Null: no limit."
  type        = number
  default     = 10
}

variable "control_plane_function_name" {
  description = "The control plane's Lambda function (control-plane-aws output `function_name`): `terraform apply` registers the pool with it."
  type        = string
}
