"""On-time scheduled runs between ticks.

EventBridge fires at most once a minute, so a tick alone would start a run due at :30
up to a minute late. Each tick therefore puts every run due before the next tick on an
SQS queue with `DelaySeconds = due - now` (SQS allows 0..900 whole seconds); when the
message arrives, the SQS invocation waits out the sub-second remainder and dispatches
that run. A message sent twice (overlapping ticks) or delivered twice (SQS is
at-least-once) is harmless: dispatch claims the run with a compare-and-set first.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from sqlmodel import Session, col, select

from control_plane.columns import utcnow
from control_plane.models import FlowRun
from runtime.states import StateType

MAX_DELAY = 900  # seconds: SQS's limit on DelaySeconds
BATCH = 10  # SendMessageBatch takes at most ten entries


@dataclasses.dataclass(frozen=True)
class DueRun:
    run_id: str
    due: datetime

    def body(self) -> str:
        return json.dumps({"run_id": self.run_id, "due": self.due.isoformat()})

    @classmethod
    def parse(cls, body: str) -> DueRun:
        """Raises ValueError for a message this queue never carries."""
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("run_id"), str):
            raise ValueError('expected {"run_id": ..., "due": ...}')
        due = datetime.fromisoformat(data["due"])
        return cls(data["run_id"], due if due.tzinfo else due.replace(tzinfo=timezone.utc))


def upcoming(session: Session, since: datetime, until: datetime) -> list[DueRun]:
    """Scheduled runs that became due after `since` or become due by `until`. A tick
    passes its own start as `since`: a run that fell due while the tick's later passes ran
    is past its dispatch pass, so it is queued with no delay rather than left to the next
    tick."""
    rows = session.exec(
        select(FlowRun.id, FlowRun.expected_start_time).where(
            FlowRun.state_type == StateType.SCHEDULED,
            col(FlowRun.expected_start_time) > since,
            col(FlowRun.expected_start_time) <= until,
        )
    ).all()
    return [DueRun(run_id, due) for run_id, due in rows if due is not None]


def delay_seconds(due: datetime, now: datetime) -> int:
    """Whole seconds to hold the message: rounded down, so it arrives just before the run
    is due and the SQS invocation waits out the rest (never a second late)."""
    return max(0, min(MAX_DELAY, math.floor((due - now).total_seconds())))


def enqueue(sqs: Any, queue_url: str, runs: Iterable[DueRun], now: datetime | None = None) -> int:
    """Send one delayed message per run; returns how many SQS accepted. Raises on a
    partial failure so the tick is retried (a duplicate message is harmless)."""
    runs = list(runs)
    now = now or utcnow()
    sent = 0
    for start in range(0, len(runs), BATCH):
        chunk = runs[start : start + BATCH]
        entries = [
            {"Id": str(i), "MessageBody": r.body(), "DelaySeconds": delay_seconds(r.due, now)}
            for i, r in enumerate(chunk)
        ]
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        failed = answer.get("Failed") or []
        if failed:
            reasons = "; ".join(f"{f.get('Code')}: {f.get('Message')}" for f in failed)
            raise RuntimeError(f"SQS refused {len(failed)} of {len(entries)} messages for {queue_url}: {reasons}")
        sent += len(answer.get("Successful") or [])
    return sent
