"""A run's history as the run page shows it: its transitions, from the event log (every
state change is written there in the same transaction as the change)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from control_plane.events import Event


def transitions(session: Session, run_id: str) -> list[Event]:
    """The run's state changes, oldest first."""
    query = select(Event).where(Event.flow_run_id == run_id, col(Event.to_type).is_not(None)).order_by(col(Event.id))
    return list(session.exec(query))


def last_event_id(session: Session) -> int:
    """The newest event's id: any change to any run moves it, so a page can ask for
    this small number and re-read itself only when it moved."""
    return int(session.exec(select(func.max(Event.id))).one() or 0)
