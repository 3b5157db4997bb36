"""The retention pass: events (and webhook deliveries seen) older than `event_retention_days` are deleted, oldest
first, a batch per transaction so no lock is held for long. Safe in many processes at
once (deleting a deleted row is a no-op)."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from control_plane.columns import utcnow
from control_plane.events import Event
from control_plane.services import Services
from control_plane.webhook_models import WebhookDelivery

BATCH = 1000


def trim_events(services: Services, *, deadline: float | None = None) -> int:
    """Delete expired events; returns how many."""
    cutoff = utcnow() - timedelta(days=services.settings.event_retention_days)
    trimmed = 0
    while deadline is None or time.monotonic() < deadline:
        with Session(services.engine) as session:
            ids = session.exec(
                select(Event.id).where(col(Event.occurred) < cutoff).order_by(col(Event.id)).limit(BATCH)
            ).all()
            if not ids:
                break
            session.execute(delete(Event).where(col(Event.id).in_(ids)))
            session.commit()
            trimmed += len(ids)
    with Session(services.engine) as session:  # replays older than the events are moot
        session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.received) < cutoff))
        session.commit()
    return trimmed
