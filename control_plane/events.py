"""The transition log: one `event` row per state change of a run, and per change of a
pool, deployment or schedule, written in the same transaction as the change.

A row is shaped for the event stream the UI, webhooks and automations read
(`{id, occurred, event, resource{id, labels}, related, payload}`, event names such as
`pushflow.flow-run.Completed`); a run's transitions also fill typed columns (run,
attempt, from, to, message) so a run's timeline is one indexed query.

Order. Readers page through `GET /api/events?after=<id>`, so ids must appear in commit
order: a reader must never see id N+1 before N commits. A sequence alone does not give
that on PostgreSQL (a transaction that took id N may commit after one that took N+1), so
events are inserted at commit time under one transaction-scoped advisory lock: the next
transaction takes its ids only after this one has committed. SQLite serialises writers
already. Rows are collected on the session while it works (`record`) and written by a
`before_commit` hook, after the session's own flush, so the lock is held only for the
insert and the commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, event, inspect, text
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from control_plane.bulk import insert_rows
from control_plane.columns import json_column, state_type_column, utc_column, utcnow
from runtime.states import State, StateType

_PENDING = "pushflow.events"
_LOCK_KEY = 0x70666576  # "pfev": the one advisory lock event writers take
# Tables whose changes are events too, by the resource name they appear under.
_WATCHED = {"pool": "pool", "deployment": "deployment", "schedule": "schedule"}


class Event(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (Index("ix_event_flow_run", "flow_run_id", "id"), Index("ix_event_occurred", "occurred"))
    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    )
    occurred: datetime = Field(sa_column=utc_column(nullable=False))
    event: str = Field(max_length=200)
    resource_id: str = Field(index=True)
    resource: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    related: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column(nullable=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    # A run's transition: the run, its attempt (submission number), from and to.
    flow_run_id: str | None = None
    attempt: int | None = None
    from_type: StateType | None = Field(default=None, sa_column=state_type_column(nullable=True))
    from_name: str | None = None
    to_type: StateType | None = Field(default=None, sa_column=state_type_column(nullable=True))
    to_name: str | None = None
    message: str | None = None
    # When the control plane accepted an event posted to it (the API, a webhook): what the
    # ingest rate limit counts, since `occurred` is the sender's clock.
    received: datetime | None = Field(default=None, sa_column=utc_column(nullable=True, index=True))


# Every column a queued row may leave out (one INSERT needs the same keys in every row).
_EMPTY: dict[str, Any] = {
    key: None
    for key in ("flow_run_id", "attempt", "from_type", "from_name", "to_type", "to_name", "message", "received")
}


def record(session: Session, row: dict[str, Any]) -> None:
    """Queue an event row; it is written when (and only if) the session commits."""
    session.info.setdefault(_PENDING, []).append(row)


def record_transition(
    session: Session,
    run: Any,
    from_type: StateType | None,
    from_name: str | None,
    state: State,
    *,
    occurred: datetime | None = None,
) -> None:
    """Queue the event of `run` moving from (`from_type`, `from_name`) to `state`. `run`
    is anything with the run's columns (a FlowRun, or a row of them)."""
    related = [
        {"id": f"pushflow.deployment.{run.deployment_id}", "role": "deployment"} if run.deployment_id else None,
        {"id": f"pushflow.pool.{run.pool}", "role": "pool"} if run.pool else None,
        {"id": f"pushflow.flow.{run.flow_name}", "role": "flow"},
    ]
    record(
        session,
        {
            "occurred": occurred or utcnow(),
            "event": f"pushflow.flow-run.{state.name}",
            "resource_id": f"pushflow.flow-run.{run.id}",
            "resource": {"name": run.name},
            "related": [r for r in related if r is not None],
            "payload": {},
            "flow_run_id": run.id,
            "attempt": run.dispatch_count,
            "from_type": from_type,
            "from_name": from_name,
            "to_type": state.type,
            "to_name": state.name,
            "message": state.message,
        },
    )


def _change(kind: str, obj: Any, verb: str, changed: list[str]) -> dict[str, Any]:
    key = obj.name if kind == "pool" else obj.id
    labels = {"name": obj.name} if kind != "schedule" else {"deployment_id": obj.deployment_id}
    related = [{"id": f"pushflow.deployment.{obj.deployment_id}", "role": "deployment"}] if kind == "schedule" else []
    return {
        "occurred": utcnow(),
        "event": f"pushflow.{kind}.{verb}",
        "resource_id": f"pushflow.{kind}.{key}",
        "resource": labels,
        "related": related,
        "payload": {"changed": changed} if changed else {},
    }


@event.listens_for(Session, "before_flush")
def _collect_changes(session: Session, _context: Any, _instances: Any) -> None:
    """Pools, deployments and schedules changed through the ORM are events too."""
    for objects, verb in ((session.new, "created"), (session.dirty, "updated"), (session.deleted, "deleted")):
        for obj in objects:
            kind = _WATCHED.get(getattr(obj, "__tablename__", ""))
            if kind is None:
                continue
            changed: list[str] = []
            if verb == "updated":
                state = inspect(obj)
                changed = sorted(a.key for a in state.attrs if a.history.has_changes() and a.key != "updated")
                if not changed:
                    continue
            record(session, _change(kind, obj, verb, changed))


@event.listens_for(Session, "before_commit")
def _write_events(session: Session) -> None:
    session.flush()  # collect ORM changes; any row locks are taken before ours below
    rows = session.info.pop(_PENDING, None)
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Held until commit: ids are handed out in commit order (see the module docstring).
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    insert_rows(connection, Event.__table__, [{**_EMPTY, **row} for row in rows])  # type: ignore[attr-defined]


@event.listens_for(Session, "after_rollback")
def _forget_events(session: Session) -> None:
    session.info.pop(_PENDING, None)
