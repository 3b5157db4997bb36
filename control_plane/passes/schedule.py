"""The schedule pass: turns each active schedule of an unpaused deployment into runs ahead of
time — at most `schedule_max_runs` future runs per schedule, none beyond
`schedule_horizon` — so the dispatcher starts them on time. A run per (deployment,
schedule, slot time), guaranteed by a unique constraint: several schedulers never double
a slot. After downtime, the schedule's catch-up policy decides what missed slots run."""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from control_plane import events, runs
from control_plane.columns import utcnow
from control_plane.models import Deployment, FlowRun
from control_plane.orchestration import policy
from control_plane.schedules import Catchup, Schedule, latest_slot, slot_times
from control_plane.services import Services
from control_plane.settings import Settings
from runtime.states import State, StateType

log = logging.getLogger("pushflow.scheduler")


def schedule_runs(services: Services, *, deadline: float | None = None) -> int:
    """One pass over every active schedule; returns how many runs it created. Each
    schedule in its own transaction, so one that cannot produce times is logged and
    skipped without holding up the others; stops between schedules at `deadline`."""
    now = utcnow()
    created = 0
    with Session(services.engine, expire_on_commit=False) as session:
        rows = session.exec(
            select(Schedule, Deployment)
            .join(Deployment, col(Schedule.deployment_id) == col(Deployment.id))
            .where(col(Schedule.active).is_(True), col(Deployment.paused).is_(False))
        ).all()
    for schedule, deployment in rows:
        if deadline is not None and time.monotonic() >= deadline:
            break
        try:
            with Session(services.engine, expire_on_commit=False) as session:
                made = _schedule_one(session, services.settings, schedule, deployment, now)
                session.commit()
            created += made
        except Exception as exc:  # a schedule that cannot produce times: skip it, say why
            log.warning("schedule %s of deployment %s: %s: %s", schedule.id, deployment.name, type(exc).__name__, exc)
    return created


def _schedule_one(
    session: Session, settings: Settings, schedule: Schedule, deployment: Deployment, now: datetime
) -> int:
    cutoff = now - timedelta(seconds=settings.catchup_grace)
    origin = schedule.created
    after = schedule.last_slot or now
    created = 0
    if after < cutoff:  # slots were missed while nothing scheduled
        missed = latest_slot(schedule, after, cutoff, origin=origin)
        _catch_up(session, schedule, cutoff, keep_latest=missed is None)
        on_time = latest_slot(schedule, cutoff, now, origin=origin)  # due within the grace: not missed
        if missed is not None and on_time is None and schedule.catchup == Catchup.RUN_LATEST.value:
            created += _insert_runs(session, schedule, deployment, [missed], now)
        after = cutoff
    _catch_up(session, schedule, cutoff, keep_latest=True)
    future = session.exec(
        select(func.count())
        .select_from(FlowRun)
        .where(
            FlowRun.schedule_id == schedule.id,
            FlowRun.state_type == StateType.SCHEDULED,
            col(FlowRun.scheduled_time) > now,
        )
    ).one()
    room = settings.schedule_max_runs - future
    slots = (
        slot_times(schedule, after, now + timedelta(seconds=settings.schedule_horizon), room, origin=origin)
        if room > 0
        else []
    )
    created += _insert_runs(session, schedule, deployment, slots, now)
    last = max(
        [t for t in (schedule.last_slot, after if after != now else None, *slots) if t is not None], default=None
    )
    if last is not None and last != schedule.last_slot:
        session.execute(update(Schedule).where(col(Schedule.id) == schedule.id).values(last_slot=last))
    return created


def _catch_up(session: Session, schedule: Schedule, cutoff: datetime, *, keep_latest: bool) -> None:
    """Runs of this schedule overdue by more than the grace were missed: with skip-missed
    none of them run; with run-latest only the latest one does (if `keep_latest`)."""
    overdue = list(
        session.exec(
            select(FlowRun.id)
            .where(
                FlowRun.schedule_id == schedule.id,
                FlowRun.state_type == StateType.SCHEDULED,
                col(FlowRun.state_name).in_(policy.CATCHABLE),
                col(FlowRun.scheduled_time) < cutoff,
            )
            .order_by(col(FlowRun.scheduled_time).desc())
        )
    )
    if schedule.catchup == Catchup.RUN_LATEST.value and keep_latest:
        overdue = overdue[1:]
    if overdue:
        state = policy.missed_slot(schedule.catchup)
        runs.transition_many(session, overdue, StateType.SCHEDULED, list(policy.CATCHABLE), state, skip_locked=True)


def _insert_runs(
    session: Session, schedule: Schedule, deployment: Deployment, slots: list[datetime], now: datetime
) -> int:
    if not slots:
        return 0
    rows = [_run_row(schedule, deployment, t, now) for t in slots]
    table = FlowRun.__table__  # type: ignore[attr-defined]
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # A slot that already has a run (another scheduler, an earlier pass) is left alone.
    stmt = dialect.insert(table).values(rows).on_conflict_do_nothing().returning(table.c.id)
    made = {run_id for (run_id,) in session.execute(stmt)}
    for row in rows:
        if row["id"] in made:
            events.record_transition(session, SimpleNamespace(**row), None, None, State(StateType.SCHEDULED))
    return len(made)


def _run_row(schedule: Schedule, deployment: Deployment, t: datetime, now: datetime) -> dict[str, Any]:
    name = f"{deployment.name}-{t:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    return runs.new_run_values(deployment, when=t, now=now, name=name, schedule_id=schedule.id)


def next_due_time(session: Session, now: datetime) -> datetime | None:
    """When the next scheduled run becomes due (for the local loop to wake at)."""
    return session.exec(
        select(func.min(FlowRun.expected_start_time)).where(
            FlowRun.state_type == StateType.SCHEDULED, col(FlowRun.expected_start_time) > now
        )
    ).one()


def any_due(session: Session, now: datetime) -> bool:
    """Whether some scheduled run is due (one indexed lookup): the local loop skips the
    dispatch pass, several statements, when none is."""
    due = select(FlowRun.id).where(FlowRun.state_type == StateType.SCHEDULED, col(FlowRun.expected_start_time) <= now)
    return session.exec(due.limit(1)).first() is not None
