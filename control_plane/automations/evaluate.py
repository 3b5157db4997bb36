"""The automations pass: read the event stream from the evaluator's cursor, evaluate every
enabled automation's trigger, record firings and their actions, and move the cursor, all
in one transaction whose last statement before the inserts is a compare-and-set on the
cursor's version. Of several evaluators (replicas, Lambda invocations) that read the same
batch, exactly one commits; the others roll back and read on from the new position.

Run events carry the labels of their deployment's `key=value` tags (added here, for
triggers: `match: {env: prod}` on `pushflow.flow-run.Failed`).
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from control_plane.automations.models import (
    Automation,
    AutomationActionRun,
    AutomationFiring,
    AutomationState,
    EvaluatorCursor,
)
from control_plane.automations.specs import TriggerSpec
from control_plane.automations.triggers import Fire, Seen, on_event, on_time
from control_plane.event_models import EventPublic
from control_plane.events import Event
from control_plane.models import Deployment
from control_plane.services import Services

log = logging.getLogger("pushflow.automations")
CURSOR = "automations"
BATCH = 500


def evaluate_automations(services: Services, *, deadline: float | None = None) -> int:
    """Evaluate until the stream is read (or the deadline); returns how many firings."""
    fired = 0
    for _ in range(1000):
        count, more = evaluate_batch(services)
        fired += count
        if not more or (deadline is not None and time.monotonic() >= deadline):
            break
    return fired


def evaluate_batch(services: Services, *, now: float | None = None) -> tuple[int, bool]:
    """One batch: (firings recorded, whether to go on)."""
    with Session(services.engine, expire_on_commit=False) as session:
        cursor = session.get(EvaluatorCursor, CURSOR)
        if cursor is None:
            return _create_cursor(session), True
        automations = session.exec(select(Automation).where(col(Automation.enabled).is_(True))).all()
        if not automations:  # nothing to evaluate: move past every event for good, unread
            last = session.exec(select(func.max(Event.id)).where(col(Event.id) > cursor.position)).one()
            if last is not None and _advance(session, cursor, last):
                session.commit()
            return 0, False
        rows = session.exec(
            select(Event).where(col(Event.id) > cursor.position).order_by(col(Event.id)).limit(BATCH)
        ).all()
        states = {s.automation_id: s for s in session.exec(select(AutomationState)).all()}
        triggers = _triggers(automations)
        seen = _seen(session, rows)
        clock = now if now is not None else time.time()
        firings: list[tuple[Automation, Fire]] = []
        touched: set[str] = set()
        for automation in automations:
            trigger = triggers.get(automation.id)
            if trigger is None:
                continue
            # A deep copy: the loaded row must not change under SQLAlchemy, or the update is lost.
            state = copy.deepcopy(states[automation.id].state) if automation.id in states else {}
            before = repr(state)
            for event in seen:
                if event.id > automation.since_event:
                    firings += [(automation, f) for f in on_event(trigger, state, event)]
            started = automation.watching_since.timestamp()
            firings += [(automation, f) for f in on_time(trigger, state, clock, started)]
            if repr(state) != before:
                touched.add(automation.id)
                row = states.get(automation.id) or AutomationState(automation_id=automation.id)
                row.state = state
                states[automation.id] = row
        if not rows and not touched:
            return 0, False
        if not _advance(session, cursor, rows[-1].id or cursor.position if rows else cursor.position):
            session.rollback()
            return 0, True  # another evaluator took this batch
        for automation_id in touched:
            session.merge(states[automation_id])
        for automation, fire in firings:
            record_firing(session, automation, fire)
        session.commit()
    if firings:
        services.wake(full=False)
    return len(firings), len(rows) == BATCH


def record_firing(session: Session, automation: Automation, fire: Fire) -> AutomationFiring:
    firing = AutomationFiring(automation_id=automation.id, reason=fire.reason, event=fire.event)
    session.add(firing)
    for position, action in enumerate(automation.actions):
        session.add(
            AutomationActionRun(firing_id=firing.id, automation_id=automation.id, position=position, action=action)
        )
    return firing


def _create_cursor(session: Session) -> int:
    session.add(EvaluatorCursor(name=CURSOR, position=0, version=0))
    try:
        session.commit()
    except IntegrityError:  # another evaluator made it first
        session.rollback()
    return 0


def _advance(session: Session, cursor: EvaluatorCursor, position: int) -> bool:
    result = session.execute(
        update(EvaluatorCursor)
        .where(col(EvaluatorCursor.name) == cursor.name, col(EvaluatorCursor.version) == cursor.version)
        .values(position=position, version=cursor.version + 1)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def _triggers(automations: Any) -> dict[str, Any]:
    parsed = {}
    for automation in automations:
        try:
            parsed[automation.id] = TriggerSpec.model_validate({"trigger": automation.trigger}).trigger
        except ValidationError as exc:  # stored before a spec change: skip it, keep the others going
            log.error("automation %s has an invalid trigger, skipped: %s", automation.name, exc)
    return parsed


def _seen(session: Session, rows: Any) -> list[Seen]:
    tags: dict[str, dict[str, str]] = {}
    seen = []
    for row in rows:
        labels = dict(row.resource)
        deployment = next((r["id"] for r in row.related if r.get("role") == "deployment"), None)
        if row.flow_run_id and deployment:
            deployment_id = deployment.removeprefix("pushflow.deployment.")
            if deployment_id not in tags:
                found = session.get(Deployment, deployment_id)
                tags[deployment_id] = dict(t.split("=", 1) for t in (found.tags if found else []) if "=" in t)
            labels = {**tags[deployment_id], **labels}
        public = EventPublic.of(row).model_dump(mode="json")
        public["resource"]["labels"] = labels
        seen.append(
            Seen(
                id=row.id or 0,
                at=row.occurred.timestamp(),
                name=row.event,
                resource={"id": row.resource_id, "labels": labels},
                related=row.related,
                public=public,
            )
        )
    return seen
