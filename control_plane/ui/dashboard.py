"""The dashboard: runs per state over the last day (a chart), and the runs that need
someone first: late and crashed ones, then failed ones."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Request, Response
from sqlalchemy import or_
from sqlmodel import col, select

from control_plane.deps import SessionDep
from control_plane.models import FlowRun
from control_plane.orchestration.rules import LATE
from control_plane.ui import charts, history, queries
from control_plane.ui.deps import UiSessionDep
from control_plane.ui.render import render
from runtime.states import StateType

router = APIRouter(include_in_schema=False)
HOURS = 24
ATTENTION = 20


@router.get("/ui")
def dashboard(request: Request, session: SessionDep, ui: UiSessionDep, fragment: bool = False) -> Response:
    since = datetime.now(timezone.utc) - timedelta(hours=HOURS)
    rows = session.exec(select(FlowRun.created, FlowRun.state_type).where(col(FlowRun.created) >= since))
    buckets, peak = charts.runs_over_time(((c, StateType(s).value) for c, s in rows), hours=HOURS)
    late_or_crashed = or_(
        col(FlowRun.state_type) == StateType.CRASHED,
        (col(FlowRun.state_type) == StateType.SCHEDULED) & (col(FlowRun.state_name) == LATE),
    )
    urgent = list(
        session.exec(select(FlowRun).where(late_or_crashed).order_by(col(FlowRun.created).desc()).limit(ATTENTION))
    )
    failed = list(
        session.exec(
            select(FlowRun)
            .where(col(FlowRun.state_type) == StateType.FAILED, col(FlowRun.created) >= since)
            .order_by(col(FlowRun.created).desc())
            .limit(ATTENTION)
        )
    )
    totals: dict[str, int] = {}
    for bucket in buckets:
        for state, count in bucket.counts.items():
            totals[state] = totals.get(state, 0) + count
    return render(
        request,
        "dashboard_live.html" if fragment else "dashboard.html",
        session=ui,
        buckets=buckets,
        peak=peak,
        totals=totals,
        attention=urgent + failed,
        deployments={d.id: d for d in queries.deployments(session)},
        chart_width=charts.CHART_WIDTH,
        hours=HOURS,
        last_event=history.last_event_id(session),
    )
