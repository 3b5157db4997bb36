# Values the mocked AWS provider returns for what the modules read back: realistic
# ARNs and URLs instead of random strings. Shared by every test (mock_provider source).

mock_data "aws_region" {
  defaults = { region = "eu-west-1" }
}
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}
mock_data "aws_partition" {
  defaults = { partition = "aws" }
}
mock_data "aws_subnet" {
  defaults = { vpc_id = "vpc-0123456789abcdef0" }
}
mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
}
mock_resource "aws_lambda_function" {
  defaults = {
    arn        = "arn:aws:lambda:eu-west-1:123456789012:function:pushflow"
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:pushflow/invocations"
  }
}
mock_resource "aws_apigatewayv2_api" {
  defaults = { api_endpoint = "https://abc123.execute-api.eu-west-1.amazonaws.com" }
}
mock_resource "aws_rds_cluster" {
  defaults = {
    endpoint           = "pushflow.cluster-abc.eu-west-1.rds.amazonaws.com"
    master_user_secret = [{ secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-1", kms_key_id = "", secret_status = "active" }]
  }
}
mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:pushflow-dispatch"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/pushflow-dispatch"
  }
}
mock_resource "aws_secretsmanager_secret" {
  defaults = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pushflow/api-key-1" }
}
mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/pushflow/fargate" }
}
mock_resource "aws_s3_bucket" {
  defaults = {
    arn    = "arn:aws:s3:::pushflow-bundles-1"
    bucket = "pushflow-bundles-1"
  }
}
