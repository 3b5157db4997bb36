"""Replacing a deployment's schedules on upsert without churning its runs: a schedule
given again unchanged keeps its id and its runs; a removed one is deleted and its runs
that have not started are cancelled ("Skipped"). Pausing or deleting one schedule removes
the runs it created ahead (`drop_runs_ahead`), so a paused daily cron does not go on
running for the days it had already scheduled, and resuming it makes them again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, delete, select

from control_plane import events, runs
from control_plane.columns import JsonBool, utcnow
from control_plane.models import FlowRun
from control_plane.orchestration import policy
from control_plane.schedules import Catchup, Schedule, ScheduleCreate
from runtime.states import StateType

# Runs a schedule made that have not started (not retries of runs that did).
NOT_STARTED = list(policy.CATCHABLE)


class ScheduleUpdate(SQLModel):
    """Pause (`active: false`) or resume a schedule, or change its catch-up policy."""

    active: JsonBool | None = None
    catchup: Catchup | None = None


def drop_runs_ahead(session: Session, schedule: Schedule) -> int:
    """Delete the schedule's runs that have not started, and move its bookmark back to
    now: a resumed schedule makes its future slots again (catch-up decides about the
    ones missed while paused). Returns how many runs were removed."""
    removed = remove_unstarted_runs(
        session, f"schedule {schedule.id} was paused or deleted", col(FlowRun.schedule_id) == schedule.id
    )
    now = utcnow()
    if schedule.last_slot is not None and schedule.last_slot > now:
        schedule.last_slot = now
        session.add(schedule)
    return removed


def remove_unstarted_runs(session: Session, reason: str, *where: Any) -> int:
    """Delete the runs matching `where` that a schedule made and that have not started
    (nothing ran: no task runs, logs or attempts), each recorded in the event log as
    `pushflow.flow-run.deleted` with the reason."""
    columns = [col(c) for c in (FlowRun.id, FlowRun.name, FlowRun.flow_name, FlowRun.deployment_id, FlowRun.pool)]
    not_started = (col(FlowRun.state_type) == StateType.SCHEDULED, col(FlowRun.state_name).in_(NOT_STARTED))
    doomed = session.execute(sa_select(*columns).where(*not_started, *where)).all()
    if not doomed:
        return 0
    session.execute(delete(FlowRun).where(col(FlowRun.id).in_([run.id for run in doomed])))
    for run in doomed:
        events.record(session, _deleted_event(run, reason))
    return len(doomed)


def _deleted_event(run: Any, reason: str) -> dict[str, Any]:
    related = [{"id": f"pushflow.flow.{run.flow_name}", "role": "flow"}]
    if run.deployment_id:
        related.append({"id": f"pushflow.deployment.{run.deployment_id}", "role": "deployment"})
    if run.pool:
        related.append({"id": f"pushflow.pool.{run.pool}", "role": "pool"})
    return {
        "occurred": utcnow(),
        "event": "pushflow.flow-run.deleted",
        "resource_id": f"pushflow.flow-run.{run.id}",
        "resource": {"name": run.name},
        "related": related,
        "payload": {"reason": reason},
    }


def _definition(s: ScheduleCreate | Schedule) -> tuple:
    return (s.cron, s.interval_seconds, s.anchor, s.rrule, s.timezone)


def replace_schedules(session: Session, deployment_id: str, wanted: list[ScheduleCreate]) -> None:
    existing = list(session.exec(select(Schedule).where(Schedule.deployment_id == deployment_id)))
    unmatched = {s.id: s for s in existing}
    for spec in wanted:
        match = next((s for s in unmatched.values() if _definition(s) == _definition(spec)), None)
        if match is None:
            session.add(Schedule(deployment_id=deployment_id, **spec.model_dump()))
            continue
        del unmatched[match.id]
        match.active, match.catchup = spec.active, spec.catchup
        session.add(match)
    if not unmatched:
        return
    gone = list(unmatched)
    not_started = session.exec(
        select(FlowRun.id).where(col(FlowRun.schedule_id).in_(gone), FlowRun.state_type == StateType.SCHEDULED)
    ).all()
    state = policy.removed_slot()
    runs.transition_many(session, list(not_started), StateType.SCHEDULED, None, state)
    session.execute(delete(Schedule).where(col(Schedule.id).in_(gone)))
