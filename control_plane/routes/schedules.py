"""A deployment's schedules, one by one. `POST /api/deployments` with `schedules` replaces
them all (the deploy command declares the whole deployment); these routes change one."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlmodel import col, select

from control_plane.deps import AdminDep, ServicesDep, SessionDep
from control_plane.errors import InvalidInputError, NotFoundError
from control_plane.routes.deployments import get_deployment
from control_plane.schedule_sync import ScheduleUpdate, drop_runs_ahead
from control_plane.schedules import Schedule, ScheduleCreate, SchedulePublic

router = APIRouter(prefix="/deployments/{deployment_id}/schedules", tags=["schedules"])


@router.get("")
def list_schedules(deployment_id: str, session: SessionDep, _: AdminDep) -> list[SchedulePublic]:
    """The deployment's schedules, oldest first."""
    get_deployment(session, deployment_id)
    found = session.exec(
        select(Schedule).where(Schedule.deployment_id == deployment_id).order_by(col(Schedule.created))
    ).all()
    return [SchedulePublic.model_validate(s) for s in found]


@router.post("", status_code=status.HTTP_201_CREATED)
def add_schedule(
    deployment_id: str, body: ScheduleCreate, session: SessionDep, services: ServicesDep, _: AdminDep
) -> SchedulePublic:
    """Add one schedule (a cron expression, an interval or an rrule) to the deployment."""
    get_deployment(session, deployment_id)
    schedule = Schedule(deployment_id=deployment_id, **body.model_dump())
    session.add(schedule)
    session.commit()
    services.wake()
    return SchedulePublic.model_validate(schedule)


@router.patch("/{schedule_id}")
def update_schedule(
    deployment_id: str, schedule_id: str, body: ScheduleUpdate, session: SessionDep, services: ServicesDep, _: AdminDep
) -> SchedulePublic:
    """Pause (`active: false`) or resume one schedule, or change its catch-up policy.
    Pausing removes the runs it created ahead that have not started."""
    schedule = _get_schedule(session, deployment_id, schedule_id)
    changes = body.model_dump(exclude_unset=True, mode="json")
    if changes.get("active") is None and changes.get("catchup") is None:
        raise InvalidInputError("nothing to change: send `active` (true or false) or `catchup`")
    if changes.get("active") is False and schedule.active:
        drop_runs_ahead(session, schedule)
    for key, value in changes.items():
        if value is not None:
            setattr(schedule, key, value)
    session.add(schedule)
    session.commit()
    services.wake()
    return SchedulePublic.model_validate(schedule)


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_schedule(deployment_id: str, schedule_id: str, session: SessionDep, _: AdminDep) -> Response:
    """Delete one schedule and the runs it created ahead that have not started."""
    schedule = _get_schedule(session, deployment_id, schedule_id)
    drop_runs_ahead(session, schedule)
    session.delete(schedule)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _get_schedule(session: SessionDep, deployment_id: str, schedule_id: str) -> Schedule:
    get_deployment(session, deployment_id)
    schedule = session.get(Schedule, schedule_id)
    if schedule is None or schedule.deployment_id != deployment_id:
        raise NotFoundError(
            f"schedule {schedule_id!r} of deployment {deployment_id!r} not found; "
            "list them with `pushflow deployment schedule ls FLOW/NAME`"
        )
    return schedule
