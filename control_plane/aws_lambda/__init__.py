"""The control plane on AWS Lambda: `control_plane.aws_lambda:handler` serves the HTTPS
API (API Gateway HTTP/REST APIs, function URLs), EventBridge ticks, SQS deliveries of
scheduled runs and direct invocations. See docs/deployment/aws-lambda.md.

Importing it is cheap on purpose (cold starts): no FastAPI, database driver or AWS SDK
loads until an invocation needs it, unless `PUSHFLOW_LAMBDA_PRELOAD` asks for all of it
at init (SnapStart, provisioned concurrency; see snapstart.py)."""

from control_plane.aws_lambda import snapstart
from control_plane.aws_lambda.invocations import handle, handler

snapstart.at_init()

__all__ = ["handle", "handler"]
