output "pool_name" {
  description = "The pool's name in pushflow."
  value       = var.name
}

output "job_variables" {
  description = "The pool's defaults, as registered (`pushflow pool create NAME --type ecs --set ...` takes the same)."
  value       = local.job_variables
}

output "registration_input" {
  description = "The `upsert-pool` invocation the control plane receives (null when not registered by this module)."
  value       = one(aws_lambda_invocation.register[*].input)
}

output "cluster_arn" {
  description = "ARN of the ECS cluster runs start in."
  value       = aws_ecs_cluster.this.arn
}

output "cluster_name" {
  description = "Name of the ECS cluster runs start in."
  value       = aws_ecs_cluster.this.name
}

output "execution_role_arn" {
  description = "Role ECS uses to pull images and write logs."
  value       = aws_iam_role.execution.arn
}

output "task_role_arn" {
  description = "Role the flow code runs as."
  value       = aws_iam_role.task.arn
}

output "pass_role_arns" {
  description = "Roles the control plane must be allowed to pass to ECS (control-plane-aws `pool_role_arns`)."
  value       = [aws_iam_role.execution.arn, aws_iam_role.task.arn]
}

output "log_group_name" {
  description = "CloudWatch Logs group holding each run's output."
  value       = aws_cloudwatch_log_group.this.name
}

output "security_group_id" {
  description = "Security group of the run tasks (outbound only)."
  value       = aws_security_group.this.id
}

output "log_group_arn" {
  description = "ARN of the log group (control-plane-aws `run_log_group_arns`, so `pushflow runs logs` can read it)."
  value       = aws_cloudwatch_log_group.this.arn
}
