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

A batch of runs moved together (`record_transitions`: a dispatch batch's claim, its move
to InfrastructurePending) is, on PostgreSQL, one `INSERT … SELECT FROM unnest(arrays)`
that builds each row's JSON in the server and takes the lock itself: no row dicts, JSON
dumps or COPY rows in Python, and no separate lock round trip. The rows are the same as
`record_transition` writes one by one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, Column, Index, Integer, String, bindparam, event, inspect, text
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from control_plane.bulk import insert_one_locked, insert_rows
from control_plane.columns import TABLE_CONFIG, UTCDateTime, json_column, state_type_column, utc_column, utcnow
from runtime.states import State, StateType

_PENDING = "pushflow.events"
_LOCK_KEY = 0x70666576  # "pfev": the one advisory lock event writers take
# Tables whose changes are events too, by the resource name they appear under.
_WATCHED = {"pool": "pool", "deployment": "deployment", "schedule": "schedule"}


class Event(SQLModel, table=True):
    model_config = TABLE_CONFIG
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


def record_transitions(
    session: Session, moves: Sequence[tuple[Any, int]], state: State, *, occurred: datetime | None = None
) -> None:
    """Queue the events of many runs moving to `state`: `moves` pairs each run's row as it
    was before (id, name, flow_name, deployment_id, pool, state_type, state_name) with its
    attempt number."""
    if not moves:
        return
    occurred = occurred or utcnow()
    if session.get_bind().dialect.name != "postgresql":  # SQLite: in-process, row by row
        for row, attempt in moves:
            run = _Run(row.id, row.name, row.flow_name, row.deployment_id, row.pool, attempt)
            record_transition(session, run, row.state_type, row.state_name, state, occurred=occurred)
        return
    arrays = {
        "ids": [row.id for row, _ in moves],
        "names": [row.name for row, _ in moves],
        "flows": [row.flow_name for row, _ in moves],
        "deployments": [row.deployment_id for row, _ in moves],
        "pools": [row.pool for row, _ in moves],
        "attempts": [attempt for _, attempt in moves],
        "from_types": [row.state_type.name if row.state_type else None for row, _ in moves],
        "from_names": [row.state_name for row, _ in moves],
    }
    constants = {
        "key": _LOCK_KEY,
        "occurred": occurred,
        "event": f"pushflow.flow-run.{state.name}",
        "to_type": state.type.name,  # as the column stores an enum: its name
        "to_name": state.name,
        "message": state.message,
    }
    session.info.setdefault(_PENDING, []).append(_TransitionSet({**arrays, **constants}))


@dataclasses.dataclass(frozen=True)
class _Run:
    """What `record_transition` reads of a run."""

    id: str
    name: str
    flow_name: str
    deployment_id: str | None
    pool: str | None
    dispatch_count: int


@dataclasses.dataclass(frozen=True)
class _TransitionSet:
    """Queued transition events of many runs (PostgreSQL): `_TRANSITIONS`' parameters."""

    params: dict[str, Any]


# One row per run, the same as `record_transition`'s (`related` in the same order:
# deployment, pool, flow, without the absent ones). It runs only once the commit-order lock
# is taken (an EXISTS without outer references is evaluated once, before any row, and so
# before any id is drawn from the sequence).
_TRANSITIONS = text(
    """
    INSERT INTO event (occurred, event, resource_id, resource, related, payload,
                       flow_run_id, attempt, from_type, from_name, to_type, to_name, message)
    SELECT :occurred, :event, 'pushflow.flow-run.' || r.id, json_build_object('name', r.name),
           to_json(array_remove(ARRAY[
               CASE WHEN r.deployment_id IS NOT NULL THEN jsonb_build_object(
                   'id', 'pushflow.deployment.' || r.deployment_id, 'role', 'deployment') END,
               CASE WHEN r.pool IS NOT NULL THEN jsonb_build_object(
                   'id', 'pushflow.pool.' || r.pool, 'role', 'pool') END,
               jsonb_build_object('id', 'pushflow.flow.' || r.flow_name, 'role', 'flow')
           ], NULL)),
           '{}', r.id, r.attempt, r.from_type, r.from_name, :to_type, :to_name, :message
    FROM unnest(CAST(:ids AS text[]), CAST(:names AS text[]), CAST(:flows AS text[]),
                CAST(:deployments AS text[]), CAST(:pools AS text[]), CAST(:attempts AS integer[]),
                CAST(:from_types AS text[]), CAST(:from_names AS text[]))
         AS r(id, name, flow_name, deployment_id, pool, attempt, from_type, from_name)
    WHERE EXISTS (SELECT FROM pg_advisory_xact_lock(:key))
    """
).bindparams(
    *(bindparam(name, type_=ARRAY(String)) for name in ("ids", "names", "flows", "deployments", "pools")),
    bindparam("attempts", type_=ARRAY(Integer)),
    *(bindparam(name, type_=ARRAY(String)) for name in ("from_types", "from_names")),
    bindparam("occurred", type_=UTCDateTime()),
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
    if connection.dialect.name == "postgresql" and len(rows) == 1 and not isinstance(rows[0], _TransitionSet):
        # The usual commit (a run created, one state proposed): the lock and the row in one
        # statement, one round trip fewer.
        insert_one_locked(connection, Event.__table__, {**_EMPTY, **rows[0]}, _LOCK_KEY)  # type: ignore[attr-defined]
        return
    if connection.dialect.name == "postgresql" and not isinstance(rows[0], _TransitionSet):
        # Held until commit: ids are handed out in commit order (see the module docstring).
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    table = Event.__table__  # type: ignore[attr-defined]
    plain: list[dict[str, Any]] = []
    for row in rows:  # in the order they were queued, so ids follow it
        if isinstance(row, _TransitionSet):
            insert_rows(connection, table, plain)
            plain = []
            connection.execute(_TRANSITIONS, row.params)
        else:
            plain.append({**_EMPTY, **row})
    insert_rows(connection, table, plain)


@event.listens_for(Session, "after_rollback")
def _forget_events(session: Session) -> None:
    session.info.pop(_PENDING, None)
