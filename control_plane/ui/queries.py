"""The runs page's reads: the form's filter, a page of runs by cursor (the API's run
listing, control_plane/run_listing.py), and counts per state. Each is one indexed query,
so the first view stays fast with many runs in the store."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from control_plane import run_listing
from control_plane.models import Deployment, FlowRun, Pool
from control_plane.run_listing import RunOrder
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


def _listing(session: Session, f: RunFilter, *, with_state: bool = True) -> run_listing.RunFilter:
    """The form's filter as the API's run listing filter: one query path for both."""
    tagged = None
    if f.tag:  # tags live on deployments (few): match them here, then keep their runs
        tagged = [d.id for d in deployments(session) if f.tag in (d.tags or [])]
    return run_listing.RunFilter(
        deployment_id=f.deployment or None,
        states=[StateType(f.state)] if with_state and f.state else None,
        pool=f.pool or None,
        deployment_ids=tagged,
        created_since=datetime.now(timezone.utc) - SINCE[f.since] if f.since else None,
    )


def run_page(session: Session, f: RunFilter, cursor: str | None) -> tuple[list[FlowRun], str | None]:
    """Newest first; the second value is the next page's cursor."""
    return run_listing.run_page(session, _listing(session, f), RunOrder.CREATED_DESC, PAGE_SIZE, cursor)


def state_counts(session: Session, f: RunFilter) -> dict[str, int]:
    """Runs per state type under every filter but the state itself."""
    where = run_listing.conditions(_listing(session, f, with_state=False))
    query = select(FlowRun.state_type, func.count()).where(*where).group_by(FlowRun.state_type)
    return {StateType(state).value: count for state, count in session.exec(query)}


def deployments(session: Session) -> list[Deployment]:
    return list(session.exec(select(Deployment).order_by(col(Deployment.flow_name), col(Deployment.name))))


def pool_names(session: Session) -> list[str]:
    return list(session.exec(select(Pool.name).order_by(col(Pool.name))))
