# The tick (EventBridge Scheduler) and the dispatch queue: each tick puts the runs due
# before the next tick on SQS with a delay, so they start on time; SQS delivers them back
# to the function. Messages that keep failing land in the dead-letter queue.

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.name}-dispatch-dlq"
  message_retention_seconds = 1209600
  tags                      = var.tags
}

resource "aws_sqs_queue" "dispatch" {
  name                       = "${var.name}-dispatch"
  visibility_timeout_seconds = var.timeout * 6 # AWS: at least 6x the function timeout
  message_retention_seconds  = 86400
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = 5
  })
  tags = var.tags
}

resource "aws_lambda_event_source_mapping" "dispatch" {
  event_source_arn        = aws_sqs_queue.dispatch.arn
  function_name           = aws_lambda_function.this.arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-tick"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "scheduler" {
  name = "invoke-tick"
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["lambda:InvokeFunction"]
      Resource = [aws_lambda_function.this.arn]
    }]
  })
}

resource "aws_scheduler_schedule" "tick" {
  name                = "${var.name}-tick"
  schedule_expression = "rate(${var.tick_minutes} ${var.tick_minutes == 1 ? "minute" : "minutes"})"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ pushflow = "tick" })

    retry_policy {
      maximum_retry_attempts       = 0 # the next tick comes soon and does the same work
      maximum_event_age_in_seconds = 60
    }
  }
}
