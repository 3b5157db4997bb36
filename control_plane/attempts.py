"""Attempts: one row per submission of a run to its pool -- where it went (the adapter's
`InfraRef`: id, locator, console link), how its infrastructure ended, and whether its
per-run resources were released. A run's current infrastructure is its latest attempt.

The flow_run row keeps the current attempt's provider, id and console link (what the API
shows as `infrastructure`); the locator lives here, so any control-plane process rebuilds
the full ref from the store alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Index, Integer, UniqueConstraint, bindparam, cast, func, update
from sqlalchemy import select as select_columns
from sqlmodel import Field, Session, SQLModel, col, select

from control_plane.columns import TABLE_CONFIG, json_column, utc_column, utcnow
from control_plane.id_sets import rows_from_arrays
from push_pools.base import InfraRef, InfraStatus


class Attempt(SQLModel, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "attempt"
    __table_args__ = (
        UniqueConstraint("flow_run_id", "number", name="uq_attempt_run_number"),
        Index("ix_attempt_released", "released"),
    )
    id: int | None = Field(default=None, primary_key=True)
    flow_run_id: str = Field(index=True)
    number: int  # the run's dispatch_count when it was submitted
    provider: str
    infra_id: str
    locator: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    console_url: str | None = None
    submitted: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    # Filled in when the infrastructure is seen ended (reconciler) or when it is released.
    ended: datetime | None = Field(default=None, sa_column=utc_column())
    infra_status: str | None = None  # the provider's last word: exited | missing | ...
    exit_code: int | None = None
    reason: str | None = None
    # Release: claimed with a compare-and-set (a lease, so a crashed releaser's claim
    # expires), then `released` is set once the adapter's release returned.
    release_claimed: datetime | None = Field(default=None, sa_column=utc_column())
    released: datetime | None = Field(default=None, sa_column=utc_column())


class AttemptPublic(BaseModel):
    """One submission of a run to its pool: where it went (`provider`, `id`, a console
    link), how its infrastructure ended (`infra_status`, `exit_code`, the provider's
    `reason`) and when its per-run resources were released."""

    number: int
    provider: str
    id: str
    console_url: str | None
    submitted: datetime
    ended: datetime | None
    infra_status: str | None
    exit_code: int | None
    reason: str | None
    released: datetime | None

    @classmethod
    def of(cls, row: Attempt) -> AttemptPublic:
        return cls(
            number=row.number,
            provider=row.provider,
            id=row.infra_id,
            console_url=row.console_url,
            submitted=row.submitted,
            ended=row.ended,
            infra_status=row.infra_status,
            exit_code=row.exit_code,
            reason=row.reason,
            released=row.released,
        )


def ref_of(row: Attempt) -> InfraRef:
    return InfraRef(
        provider=row.provider,
        id=row.infra_id,
        locator={str(k): str(v) for k, v in (row.locator or {}).items()},
        console_url=row.console_url,
    )


def record(
    session: Session, submitted: Iterable[tuple[str, int, InfraRef]], *, ended: InfraStatus | None = None
) -> None:
    """Add an attempt row per (run id, attempt number, ref). A number already recorded (a
    resubmission of the same attempt found the same infrastructure, perhaps concurrently)
    is left as it is. One INSERT ... ON CONFLICT DO NOTHING for the whole batch: a
    dispatch pass records hundreds."""
    now = utcnow()
    rows = [
        {
            "flow_run_id": run_id,
            "number": number,
            "provider": ref.provider,
            "infra_id": ref.id,
            "locator": dict(ref.locator),
            "console_url": ref.console_url,
            "submitted": now,
            "ended": now if ended is not None else None,
            "infra_status": ended.phase.value if ended is not None else None,
            "exit_code": ended.exit_code if ended is not None else None,
            "reason": ended.reason if ended is not None else None,
        }
        for run_id, number, ref in submitted
    ]
    if not rows:
        return
    table = Attempt.__table__  # type: ignore[attr-defined]
    # The dialect's own insert (its module is loaded by the engine already, not at import).
    if session.connection().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql as dialect

        # One INSERT ... SELECT FROM unnest(arrays): psycopg's executemany sends one
        # INSERT per row (id_sets.py).
        varying = {key: [row[key] for row in rows] for key in _VARYING}
        varying["locator"] = [json.dumps(row["locator"]) for row in rows]
        source = rows_from_arrays("submitted", varying, {"number": Integer()})
        values = [cast(source.c.locator, JSON) if key == "locator" else source.c[key] for key in _VARYING]
        values += [bindparam(None, rows[0][key], type_=table.c[key].type) for key in _SAME]
        statement: Any = dialect.insert(table).from_select([*_VARYING, *_SAME], select_columns(*values))
        session.execute(statement.on_conflict_do_nothing(index_elements=["flow_run_id", "number"]))
        return
    from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]

    statement = dialect.insert(table).on_conflict_do_nothing(index_elements=["flow_run_id", "number"])
    session.execute(statement, rows)


# An attempt row's columns that differ within a batch, and those that do not.
_VARYING = ("flow_run_id", "number", "provider", "infra_id", "locator", "console_url")
_SAME = ("submitted", "ended", "infra_status", "exit_code", "reason")


def latest(session: Session, run_ids: Sequence[str]) -> dict[str, Attempt]:
    """Each run's latest attempt, by run id (one query)."""
    if not run_ids:
        return {}
    newest = (
        select(Attempt.flow_run_id, func.max(Attempt.number).label("number"))
        .where(col(Attempt.flow_run_id).in_(run_ids))
        .group_by(col(Attempt.flow_run_id))
        .subquery()
    )
    rows = session.exec(
        select(Attempt).join(
            newest,
            (col(Attempt.flow_run_id) == newest.c.flow_run_id) & (col(Attempt.number) == newest.c.number),
        )
    ).all()
    return {row.flow_run_id: row for row in rows}


def for_run(session: Session, run_id: str) -> Sequence[Attempt]:
    return session.exec(select(Attempt).where(Attempt.flow_run_id == run_id).order_by(col(Attempt.number))).all()


def mark_ended(session: Session, attempt_id: int, status: InfraStatus) -> None:
    """Record how an attempt's infrastructure ended (first writer wins)."""
    table = Attempt.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.id == attempt_id, table.c.ended.is_(None))
        .values(ended=utcnow(), infra_status=status.phase.value, exit_code=status.exit_code, reason=status.reason)
    )
