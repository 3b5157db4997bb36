# The `managed` pool: the operator's own pool over an inner push pool (ecs, cloud-run or
# aci) provisioned by its module. Authors deploy code to it with no image and no cloud
# account; runs use the stock runtime image, a size class and the quotas set here
# (push_pools/managed.py, docs/pools/managed.md).

locals {
  # What the managed pool sets per run itself: image and size.
  per_run = ["image", "cpu", "memory", "memory_gb"]

  # Names and types are the `managed` job template's (push_pools/managed.py).
  job_variables = merge(
    {
      inner           = var.inner_type
      inner_job       = { for k, v in var.inner_job_variables : k => v if !contains(local.per_run, k) }
      max_run_seconds = var.max_run_seconds
    },
    var.image == null ? {} : { image = var.image },
    var.cpu_hours_per_day == null ? {} : { cpu_hours_per_day = var.cpu_hours_per_day },
    var.deps_cache == null ? {} : { deps_cache = var.deps_cache },
  )
}

# Registers the pool with the control plane (create or update).
resource "aws_lambda_invocation" "this" {
  function_name = var.control_plane_function_name
  input = jsonencode({
    pushflow          = "upsert-pool"
    name              = var.name
    type              = "managed"
    description       = "Managed runs on ${var.inner_type}"
    concurrency_limit = var.concurrency_limit
    defaults          = local.job_variables
  })
}
