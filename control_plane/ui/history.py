"""A run's history as the run page shows it: its attempts (one per submission to the pool)
and its transitions, from the event log (every state change is written there in the same
transaction as the change, with the attempt it belongs to)."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func
from sqlmodel import Session, col, select

from control_plane.attempts import Attempt
from control_plane.attempts import for_run as attempts_of_run
from control_plane.events import Event


def transitions(session: Session, run_id: str) -> list[Event]:
    """The run's state changes, oldest first."""
    query = select(Event).where(Event.flow_run_id == run_id, col(Event.to_type).is_not(None)).order_by(col(Event.id))
    return list(session.exec(query))


def last_event_id(session: Session) -> int:
    """The newest event's id: any change to any run moves it, so a page can ask for
    this small number and re-read itself only when it moved."""
    return int(session.exec(select(func.max(Event.id))).one() or 0)


@dataclasses.dataclass(frozen=True)
class AttemptRow:
    attempt: Attempt
    state: str | None  # where the run stood when this attempt's last transition happened
    state_name: str | None
    message: str | None


def attempts(session: Session, run_id: str, events: list[Event]) -> list[AttemptRow]:
    """Each submission with how it ended: the last transition recorded under its number
    (attempt 1: CRASHED "exit code 137 (OOM)"; attempt 2: COMPLETED)."""
    last: dict[int, Event] = {}
    for event in events:
        if event.attempt:
            last[event.attempt] = event
    rows = []
    for attempt in attempts_of_run(session, run_id):
        ended = last.get(attempt.number)
        rows.append(
            AttemptRow(
                attempt=attempt,
                state=ended.to_type.value if ended and ended.to_type else None,
                state_name=ended.to_name if ended else None,
                message=ended.message if ended else None,
            )
        )
    return rows
