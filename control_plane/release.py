"""The release pass: deletes the per-run resources of every ended attempt, exactly once.

An attempt is over when its infrastructure was seen ended, when a newer attempt of the
same run exists, or when its run reached a final state (after `release_grace`, so a
container that just reported is not cut off mid-exit). Each release is claimed with a
compare-and-set on the attempt row (a lease: a claim whose process died expires), the
adapter's idempotent `release` runs, and the row records what it saw -- so any number
of control-plane processes can run this pass at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from control_plane.attempts import Attempt, ref_of
from control_plane.columns import utcnow
from control_plane.models import FlowRun
from control_plane.services import Services
from push_pools.errors import PushPoolError
from runtime.states import StateType

log = logging.getLogger("pushflow.release")

RELEASE_LEASE_SECONDS = 300.0
_FINAL = [t for t in StateType if t.is_terminal]


def release_ended(services: Services, *, limit: int = 100) -> int:
    """Release ended attempts (at most `limit`); returns how many were released."""
    now = utcnow()
    grace = timedelta(seconds=services.settings.release_grace)
    with Session(services.engine, expire_on_commit=False) as session:
        due = session.exec(
            select(Attempt)
            .join(FlowRun, col(FlowRun.id) == col(Attempt.flow_run_id))
            .where(
                col(Attempt.released).is_(None),
                or_(
                    col(Attempt.release_claimed).is_(None),
                    col(Attempt.release_claimed) < now - timedelta(seconds=RELEASE_LEASE_SECONDS),
                ),
                or_(
                    col(Attempt.ended).is_not(None),
                    col(Attempt.number) < col(FlowRun.dispatch_count),
                    and_(col(FlowRun.state_type).in_(_FINAL), col(FlowRun.state_timestamp) < now - grace),
                ),
            )
            .limit(limit)
        ).all()
    return sum(_release_one(services, attempt) for attempt in due)


def _release_one(services: Services, attempt: Attempt) -> int:
    table = Attempt.__table__  # type: ignore[attr-defined]
    claimed_at = utcnow()
    with Session(services.engine) as session:
        claimed = session.execute(
            update(table)
            .where(
                table.c.id == attempt.id,
                table.c.released.is_(None),
                _same_claim(table, attempt),
            )
            .values(release_claimed=claimed_at)
        )
        session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return 0  # another process has it
    try:
        released = services.adapters.get(attempt.provider).release(ref_of(attempt))
    except (PushPoolError, KeyError) as exc:
        log.warning("cannot release attempt %s of run %s yet: %s", attempt.number, attempt.flow_run_id, exc)
        with Session(services.engine) as session:
            session.execute(update(table).where(table.c.id == attempt.id).values(release_claimed=None))
            session.commit()
        return 0
    last = released.last_status
    with Session(services.engine) as session:
        values: dict[str, Any] = {"released": utcnow()}
        if attempt.ended is None:
            values.update(ended=utcnow(), infra_status=last.phase.value, exit_code=last.exit_code, reason=last.reason)
        session.execute(update(table).where(table.c.id == attempt.id, table.c.released.is_(None)).values(**values))
        session.commit()
    return 1


def _same_claim(table: Any, attempt: Attempt) -> Any:
    """The claim is still what this process read: no one took it in between."""
    if attempt.release_claimed is None:
        return table.c.release_claimed.is_(None)
    return table.c.release_claimed == attempt.release_claimed
