"""The runs page's reads: one filter, a page of runs by cursor, and counts per state.
Each is one indexed query, so the first view stays fast with many runs in the store."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from control_plane.models import Deployment, FlowRun, Pool
from control_plane.run_listing import RunOrder, decode_cursor, encode_cursor
from runtime.states import StateType

PAGE_SIZE = 50
SINCE = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}


@dataclasses.dataclass(frozen=True)
class RunFilter:
    state: str = ""
    deployment: str = ""
    pool: str = ""
    tag: str = ""
    since: str = ""

    @classmethod
    def of(cls, params: Any) -> RunFilter:
        values = {f.name: (params.get(f.name) or "").strip() for f in dataclasses.fields(cls)}
        if values["state"] not in StateType.__members__:
            values["state"] = ""
        if values["since"] not in SINCE:
            values["since"] = ""
        return cls(**values)

    def query_string(self, **changes: str) -> str:
        from urllib.parse import urlencode

        values = {**dataclasses.asdict(self), **changes}
        return urlencode({k: v for k, v in values.items() if v})


def _conditions(session: Session, f: RunFilter, *, with_state: bool = True) -> list[Any]:
    conditions: list[Any] = []
    if with_state and f.state:
        conditions.append(col(FlowRun.state_type) == StateType(f.state))
    if f.deployment:
        conditions.append(col(FlowRun.deployment_id) == f.deployment)
    if f.pool:
        conditions.append(col(FlowRun.pool) == f.pool)
    if f.tag:
        # Tags live on deployments (few); match them here, then filter runs by id.
        tagged = [d.id for d in deployments(session) if f.tag in (d.tags or [])]
        conditions.append(col(FlowRun.deployment_id).in_(tagged))
    if f.since:
        conditions.append(col(FlowRun.created) >= datetime.now(timezone.utc) - SINCE[f.since])
    return conditions


def run_page(session: Session, f: RunFilter, cursor: str | None) -> tuple[list[FlowRun], str | None]:
    """Newest first; the second value is the next page's cursor."""
    query = select(FlowRun).where(*_conditions(session, f))
    if cursor:
        created, run_id = decode_cursor(cursor)
        query = query.where(
            or_(col(FlowRun.created) < created, and_(col(FlowRun.created) == created, col(FlowRun.id) < run_id))
        )
    query = query.order_by(col(FlowRun.created).desc(), col(FlowRun.id).desc()).limit(PAGE_SIZE + 1)
    rows = list(session.exec(query))
    next_cursor = encode_cursor(rows[PAGE_SIZE - 1], RunOrder.CREATED_DESC) if len(rows) > PAGE_SIZE else None
    return rows[:PAGE_SIZE], next_cursor


def state_counts(session: Session, f: RunFilter) -> dict[str, int]:
    """Runs per state type under every filter but the state itself."""
    query = (
        select(FlowRun.state_type, func.count())
        .where(*_conditions(session, f, with_state=False))
        .group_by(FlowRun.state_type)
    )
    return {StateType(state).value: count for state, count in session.exec(query)}


def deployments(session: Session) -> list[Deployment]:
    return list(session.exec(select(Deployment).order_by(col(Deployment.flow_name), col(Deployment.name))))


def pool_names(session: Session) -> list[str]:
    return list(session.exec(select(Pool.name).order_by(col(Pool.name))))
