# The admin API key, generated once and kept in Secrets Manager. The function reads it by
# ARN at cold start; people read it with
#   aws secretsmanager get-secret-value --secret-id <api_key_secret_arn> --query SecretString
# (the value is also in the Terraform state: keep the state encrypted and private).

resource "random_password" "api_key" {
  length  = 48
  special = false
}

resource "aws_secretsmanager_secret" "api_key" {
  name_prefix = "${var.name}/api-key-"
  description = "pushflow admin API key (Authorization: Bearer ...)"
  tags        = var.tags
}

resource "aws_secretsmanager_secret_version" "api_key" {
  secret_id     = aws_secretsmanager_secret.api_key.id
  secret_string = random_password.api_key.result
}

# The server secret signs run tokens (never the admin key: rotating one keeps the other).
# Nobody needs to read it but the function.
resource "random_password" "server_secret" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "server_secret" {
  name_prefix = "${var.name}/server-secret-"
  description = "pushflow server secret: signs the run tokens handed to each run"
  tags        = var.tags
}

resource "aws_secretsmanager_secret_version" "server_secret" {
  secret_id     = aws_secretsmanager_secret.server_secret.id
  secret_string = random_password.server_secret.result
}
