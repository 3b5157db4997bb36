"""The actions pass: run the actions of recorded firings. Each action run is claimed with
a compare-and-set (pending and due, or running with an expired lease → running, with a
lease), so with several control planes each attempt is made by one of them. An action
that fails with a retryable error is tried again with exponential backoff, up to
`automation_action_attempts`; then it, or one whose error no retry can fix (a deleted
deployment, a bad template), is recorded failed with its error. run-deployment is
idempotent across attempts (the run's idempotency key is the action run's id);
call-webhook sends that id as `webhook-id`, so receivers can drop a repeat.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from control_plane.automations.actions import HANDLERS, ActionError
from control_plane.automations.models import Automation, AutomationActionRun, AutomationFiring
from control_plane.automations.specs import ActionSpec
from control_plane.blocks import keyring_for, references
from control_plane.columns import utcnow
from control_plane.services import Services

log = logging.getLogger("pushflow.automations")
LEASE_SECONDS = 120.0
# Claimed a few at a time: an action claimed but not run before the pass's deadline waits
# for its lease to expire.
CLAIM_CHUNK = 5


def run_due_actions(services: Services, *, deadline: float | None = None, limit: int = 100) -> int:
    """Run the actions that are due; returns how many this process ran (any outcome)."""
    ran = 0
    while ran < limit and (deadline is None or time.monotonic() < deadline):
        claimed = _claim_due(services, min(CLAIM_CHUNK, limit - ran))
        if not claimed:
            break
        for action_run_id in claimed:
            _run(services, action_run_id)
            ran += 1
    return ran


def _with_blocks(services: Services, action: dict[str, Any]) -> dict[str, Any]:
    """The stored action with its `{"$block": ...}` references replaced by the blocks'
    values, for this run only: the resolved values are never stored or logged."""
    if not references.has_references(action):
        return action
    (layer,) = references.resolve_layers(services.engine, keyring_for(services.settings), action)
    resolved = dict(layer)
    # A whole block in a place it has a field for stands for that field:
    # `"url": {"$block": "webhook/ops"}` is the block's url, `"headers": …` its headers.
    for place in ("url", "headers", "secret"):
        given, value = action.get(place), resolved.get(place)
        if _whole_block(given) and isinstance(value, dict) and place in value:
            resolved[place] = value[place]
    return resolved


def _whole_block(given: Any) -> bool:
    return isinstance(given, dict) and set(given) == {references.REF} and "." not in str(given[references.REF])


def _due(now: Any) -> Any:
    table = AutomationActionRun
    return or_(
        and_(col(table.status) == "pending", col(table.next_attempt) <= now),
        and_(col(table.status) == "running", col(table.claimed_until) < now),
    )


def _claim_due(services: Services, count: int) -> list[str]:
    """Claim up to `count` due action runs in one statement. On PostgreSQL the rows another
    control plane is claiming are skipped (SKIP LOCKED), so several processes take different
    actions instead of queueing on the same rows; SQLite has one writer and needs no lock."""
    now = utcnow()
    table = AutomationActionRun
    due = (
        select(table.id)
        .where(_due(now))
        .order_by(col(table.next_attempt), col(table.position))
        .limit(count)
        .with_for_update(skip_locked=True)
    )
    with Session(services.engine) as session:
        claimed = session.execute(
            update(table)
            .where(col(table.id).in_(due.scalar_subquery()), _due(now))
            .values(
                status="running",
                claimed_until=now + timedelta(seconds=LEASE_SECONDS),
                attempts=table.attempts + 1,  # type: ignore[operator]
                updated=now,
            )
            .returning(col(table.id))
        ).scalars()
        ids = list(claimed)
        session.commit()
    return ids


def _run(services: Services, action_run_id: str) -> None:
    settings = services.settings
    with Session(services.engine, expire_on_commit=False) as session:
        action_run = session.get(AutomationActionRun, action_run_id)
        assert action_run is not None
        firing = session.get(AutomationFiring, action_run.firing_id)
        automation = session.get(Automation, action_run.automation_id)
    ctx: dict[str, Any] = {
        "event": firing.event if firing else None,
        "firing": {"id": action_run.firing_id, "reason": firing.reason if firing else ""},
        "automation": {"id": action_run.automation_id, "name": automation.name if automation else ""},
    }
    status, result, error, retry_in = "succeeded", None, None, 0.0
    try:
        spec = ActionSpec.model_validate({"action": _with_blocks(services, action_run.action)}).action
        result = HANDLERS[type(spec)](services, spec, ctx, action_run.id)
    except references.BlockReferenceError as exc:
        status, error = "failed", f"{exc} (the action was not run)"
    except ValidationError as exc:
        # Never the input: after block resolution it may be a secret URL or header.
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"][1:])
        status, error = "failed", f"invalid action: {where}: {problem['msg']}"
    except ActionError as exc:
        status, error = "failed", str(exc)
        if exc.retryable and action_run.attempts < settings.automation_action_attempts:
            status = "pending"
            retry_in = min(settings.automation_action_backoff * 2 ** (action_run.attempts - 1), 300.0)
    except Exception as exc:  # a bug must not stop the other actions; record it
        log.exception("action %s of automation %s failed", action_run.position, ctx["automation"]["name"])
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    with Session(services.engine) as session:
        now = utcnow()
        session.execute(
            update(AutomationActionRun)
            .where(col(AutomationActionRun.id) == action_run_id)
            .values(
                status=status,
                result=result,
                error=error,
                claimed_until=None,
                next_attempt=now + timedelta(seconds=retry_in),
                updated=now,
            )
        )
        session.commit()
    if status != "succeeded":
        log.warning("automation %s action %s: %s (%s)", ctx["automation"]["name"], action_run.position, error, status)
