# Registers the pool with the control plane on AWS (create or update).
resource "aws_lambda_invocation" "register" {
  count = var.control_plane_function_name == null ? 0 : 1

  function_name = var.control_plane_function_name
  input = jsonencode({
    pushflow    = "upsert-pool"
    name        = var.name
    type        = "cloud-run"
    description = "Cloud Run jobs in ${var.project}, ${var.region}"
    defaults    = local.job_variables
  })
}
