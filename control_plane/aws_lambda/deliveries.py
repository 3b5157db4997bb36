"""SQS deliveries: each message is one queued run (dispatch_queue.py). The invocation
waits out the sub-second rest of the delay, dispatches the run, and reports the messages
it could not handle in `batchItemFailures`, so SQS redelivers only those
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html; the event
source mapping needs `ReportBatchItemFailures`)."""

from __future__ import annotations

import logging
import time
from typing import Any

from control_plane import passes
from control_plane.aws_lambda.container import Container
from control_plane.aws_lambda.dispatch_queue import DueRun, delay_seconds
from control_plane.aws_lambda.invocations import remaining_seconds
from control_plane.columns import utcnow

log = logging.getLogger("pushflow.lambda.sqs")

MAX_WAIT = 5.0  # a message earlier than this is put back with a new delay instead


def deliver(container: Container, records: list[dict[str, Any]], context: Any) -> dict[str, Any]:
    messages: list[tuple[str, DueRun]] = []
    for record in records:
        try:
            messages.append((record["messageId"], DueRun.parse(record["body"])))
        except (KeyError, TypeError, ValueError) as exc:  # retrying cannot fix it: dropped, said why
            log.error("dropping SQS message %s: not a pushflow dispatch message (%s)", record.get("messageId"), exc)
    failures = []
    for message_id, due in sorted(messages, key=lambda m: m[1].due):
        with container.obs.run(due.run_id):
            try:
                _deliver_one(container, due, context)
            except Exception as exc:  # SQS redelivers it after the visibility timeout
                log.warning("run %s not dispatched; SQS will redeliver it: %s", due.run_id, exc)
                failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def _deliver_one(container: Container, due: DueRun, context: Any) -> None:
    wait = (due.due - utcnow()).total_seconds()
    if wait > min(MAX_WAIT, remaining_seconds(context) - 1):
        _requeue(container, due)
        return
    if wait > 0:
        time.sleep(wait)  # the rest of a whole-second SQS delay, under a second normally
    if passes.dispatch_run(container.services(), due.run_id):
        late = max(0.0, (utcnow() - due.due).total_seconds() * 1000)
        container.obs.count("RunsDispatched")
        container.obs.milliseconds("DispatchLatency", late)
        log.info("run %s dispatched %.0f ms after its due time", due.run_id, late)


def _requeue(container: Container, due: DueRun) -> None:
    queue_url = container.settings.dispatch_queue_url
    if not queue_url:
        raise RuntimeError("a run arrived early and PUSHFLOW_DISPATCH_QUEUE_URL is not set to put it back")
    delay = delay_seconds(due.due, utcnow())
    container.aws.get("sqs").send_message(QueueUrl=queue_url, MessageBody=due.body(), DelaySeconds=delay)
    log.info("run %s arrived %ss early; queued again", due.run_id, delay)
