"""What kind of invocation an event is, told by its shape alone.

The shapes are AWS's documented payloads (fixtures in tests/aws_lambda/events/):
- API Gateway HTTP API payload 2.0 and Lambda function URLs: `version` "2.0" with
  `requestContext.http` (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html,
  https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads);
- API Gateway REST API (payload 1.0): `httpMethod` with `requestContext`;
- an EventBridge rule on a schedule: `source` "aws.events", `detail-type` "Scheduled Event";
- EventBridge Scheduler: its target input, which the terraform module sets to
  `{"pushflow": "tick", ...}` (Scheduler sends the input verbatim);
- SQS: `Records` whose `eventSource` is "aws:sqs"
  (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html);
- a direct invocation: `{"pushflow": "<command>", ...}`.
"""

from __future__ import annotations

import enum
from typing import Any

COMMANDS = ("migrate", "tick", "upsert-pool")


class EventKind(str, enum.Enum):
    HTTP = "http"
    TICK = "tick"
    QUEUE = "queue"
    COMMAND = "command"
    UNKNOWN = "unknown"


def classify(event: Any) -> EventKind:
    if not isinstance(event, dict):
        return EventKind.UNKNOWN
    if "pushflow" in event:
        return EventKind.TICK if event["pushflow"] == "tick" else EventKind.COMMAND
    if event.get("detail-type") == "Scheduled Event" and event.get("source") in ("aws.events", "aws.scheduler"):
        return EventKind.TICK
    records = event.get("Records")
    if isinstance(records, list) and records and all(_is_sqs(r) for r in records):
        return EventKind.QUEUE
    context = event.get("requestContext")
    if isinstance(context, dict):
        if event.get("version") == "2.0" and isinstance(context.get("http"), dict):
            return EventKind.HTTP
        if "httpMethod" in event:
            return EventKind.HTTP
    return EventKind.UNKNOWN


def describe(event: Any) -> str:
    """A safe one-line description of an event for logs: its type and top-level keys,
    never its values (they may carry keys or tokens)."""
    if isinstance(event, dict):
        return f"an object with keys {sorted(str(k) for k in event)[:12]}"
    return f"a {type(event).__name__}"


def _is_sqs(record: Any) -> bool:
    return isinstance(record, dict) and record.get("eventSource") == "aws:sqs"
