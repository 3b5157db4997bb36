"""/api/automations: create, list, pause, resume and delete automations, and read their
firings. `{ref}` is an automation's id or name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlmodel import Session, col, or_, select

from control_plane.automations.actions import set_enabled, shown_url
from control_plane.automations.models import (
    ActionRunPublic,
    Automation,
    AutomationActionRun,
    AutomationCreate,
    AutomationFiring,
    AutomationPublic,
    AutomationState,
    FiringPublic,
)
from control_plane.deps import AdminDep, ServicesDep, SessionDep
from control_plane.errors import ConflictError, NotFoundError
from control_plane.events import Event
from control_plane.masking import mask_secrets

router = APIRouter(prefix="/automations", tags=["automations"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_automation(
    body: AutomationCreate, session: SessionDep, services: ServicesDep, _: AdminDep
) -> AutomationPublic:
    """Create an automation. It reacts to events from now on (not to earlier ones)."""
    if session.exec(select(Automation).where(Automation.name == body.name)).first():
        raise ConflictError(f"automation {body.name!r} already exists; delete it first or pick another name")
    last = session.exec(select(col(Event.id)).order_by(col(Event.id).desc()).limit(1)).first()
    dumped = body.model_dump(mode="json", exclude_defaults=False)
    automation = Automation(
        name=body.name,
        description=body.description,
        trigger=dumped["trigger"],
        actions=dumped["actions"],
        enabled=body.enabled,
        since_event=int(last or 0),
    )
    session.add(automation)
    session.commit()
    services.wake()
    return _public(automation)


@router.get("")
def list_automations(session: SessionDep, _: AdminDep) -> list[AutomationPublic]:
    """Every automation, by name."""
    return [_public(a) for a in session.exec(select(Automation).order_by(col(Automation.name))).all()]


@router.get("/{ref}")
def read_automation(ref: str, session: SessionDep, _: AdminDep) -> AutomationPublic:
    """One automation."""
    return _public(get_automation(session, ref))


@router.post("/{ref}/pause")
def pause_automation(ref: str, session: SessionDep, _: AdminDep) -> AutomationPublic:
    """Stop evaluating it (its buckets are dropped; firings already recorded still run)."""
    automation = get_automation(session, ref)
    set_enabled(session, automation, False)
    session.commit()
    return _public(automation)


@router.post("/{ref}/resume")
def resume_automation(ref: str, session: SessionDep, services: ServicesDep, _: AdminDep) -> AutomationPublic:
    """Evaluate it again, from the current end of the event stream."""
    automation = get_automation(session, ref)
    set_enabled(session, automation, True)
    session.commit()
    services.wake()
    return _public(automation)


@router.delete("/{ref}", status_code=status.HTTP_204_NO_CONTENT)
def delete_automation(ref: str, session: SessionDep, _: AdminDep) -> Response:
    """Delete an automation, its state and its firings."""
    automation = get_automation(session, ref)
    for model in (AutomationActionRun, AutomationFiring):
        for row in session.exec(select(model).where(model.automation_id == automation.id)).all():
            session.delete(row)
    state = session.get(AutomationState, automation.id)
    if state is not None:
        session.delete(state)
    session.delete(automation)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{ref}/firings")
def read_firings(
    ref: str, session: SessionDep, _: AdminDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[FiringPublic]:
    """Its firings, newest first, each with its actions' outcome (status, attempts, error)."""
    automation = get_automation(session, ref)
    firings = session.exec(
        select(AutomationFiring)
        .where(AutomationFiring.automation_id == automation.id)
        .order_by(col(AutomationFiring.fired).desc())
        .limit(limit)
    ).all()
    ids = [f.id for f in firings]
    actions = session.exec(
        select(AutomationActionRun)
        .where(col(AutomationActionRun.firing_id).in_(ids))
        .order_by(col(AutomationActionRun.position))
    ).all()
    by_firing: dict[str, list[ActionRunPublic]] = {}
    for a in actions:
        by_firing.setdefault(a.firing_id, []).append(
            ActionRunPublic(
                type=a.action.get("type", "?"), status=a.status, attempts=a.attempts, result=a.result, error=a.error
            )
        )
    return [
        FiringPublic(id=f.id, fired=f.fired, reason=f.reason, event=f.event, actions=by_firing.get(f.id, []))
        for f in firings
    ]


def get_automation(session: Session, ref: str) -> Automation:
    found = session.exec(select(Automation).where(or_(Automation.id == ref, Automation.name == ref))).first()
    if found is None:
        raise NotFoundError(f"automation {ref!r} not found; list them with `pushflow automation ls`")
    return found


def _shown_actions(actions: list[dict]) -> list[dict]:
    """Secrets (call-webhook's `secret`, header values named like secrets) masked, and
    outgoing URLs cut to their host: a Slack webhook URL is a credential."""
    shown = mask_secrets(actions)
    for action in shown:
        if isinstance(action.get("url"), str):
            action["url"] = shown_url(action["url"])
    return shown  # type: ignore[no-any-return]


def _public(a: Automation) -> AutomationPublic:
    return AutomationPublic(
        id=a.id,
        name=a.name,
        description=a.description,
        trigger=a.trigger,
        actions=_shown_actions(a.actions),
        enabled=a.enabled,
        created=a.created,
    )
