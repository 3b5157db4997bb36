# Keyless Google Cloud access (Cloud Run pools): google-auth reads the credential
# configuration from GOOGLE_APPLICATION_CREDENTIALS and trades the function's own AWS
# credentials for Google ones (workload identity federation). The file holds no secret;
# a layer puts it at /opt/pushflow/google-credentials.json.

locals {
  google_credentials_path = "/opt/pushflow/google-credentials.json"
  google_environment = !var.google_credentials ? {} : {
    GOOGLE_APPLICATION_CREDENTIALS = local.google_credentials_path
  }
}

data "archive_file" "google" {
  count = var.google_credentials ? 1 : 0

  type        = "zip"
  output_path = "${path.root}/.terraform/pushflow-google-credentials.zip"

  source {
    content  = var.google_credential_configuration
    filename = "pushflow/google-credentials.json"
  }
}

resource "aws_lambda_layer_version" "google" {
  count = var.google_credentials ? 1 : 0

  layer_name          = "${var.name}-google-credentials"
  description         = "google-auth credential configuration (workload identity federation; no secret)"
  filename            = data.archive_file.google[0].output_path
  source_code_hash    = data.archive_file.google[0].output_base64sha256
  compatible_runtimes = [var.python_runtime]
}
