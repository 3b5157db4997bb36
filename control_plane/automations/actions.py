"""What an automation's actions do, one function per kind. Each takes the action's spec
and the template context and returns a line saying what it did, or raises ActionError
(`retryable` says whether trying again may help). Run by delivery.py, which claims each
action before running it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from control_plane import runs
from control_plane.automations.models import Automation, AutomationState
from control_plane.automations.specs import (
    BlockRef,
    CallWebhook,
    FlowRunAction,
    PauseResume,
    RunDeployment,
    SendNotification,
)
from control_plane.columns import utcnow
from control_plane.errors import ControlPlaneError
from control_plane.events import Event
from control_plane.models import Deployment, FlowRun, FlowRunCreate, Pool
from control_plane.parameters import check_parameters
from control_plane.services import Services
from control_plane.signatures import standard_headers
from control_plane.templates import TemplateError, render, render_json, render_values
from runtime.states import State, StateType


class ActionError(Exception):
    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


def run_deployment(services: Services, spec: RunDeployment, ctx: dict[str, Any], key: str) -> str:
    parameters = _render(spec.parameters, ctx)
    job_variables = _render(spec.job_variables, ctx)
    with Session(services.engine, expire_on_commit=False) as session:
        deployment = _deployment(session, _text(spec.deployment, ctx))
        existing = runs.find_by_idempotency_key(session, deployment.id, key)
        if existing is not None:
            return f"flow run {existing.id} ({existing.name})"
        try:
            check_parameters(deployment.parameter_schema, {**deployment.parameters, **parameters})
        except ControlPlaneError as exc:
            raise ActionError(f"parameters for {deployment.flow_name}/{deployment.name}: {exc.detail}") from None
        body = FlowRunCreate(parameters=parameters, job_variables=job_variables, idempotency_key=key)
        try:
            run = runs.create_flow_run(session, deployment, body)
            session.commit()
        except IntegrityError:  # made by an earlier attempt of this very action
            session.rollback()
            run = runs.find_by_idempotency_key(session, deployment.id, key)  # type: ignore[assignment]
            return f"flow run {run.id} ({run.name})"
    from control_plane.passes.dispatch import dispatch_now  # the passes import this module

    dispatch_now(services, run)
    return f"flow run {run.id} ({run.name})"


def flow_run_action(services: Services, spec: FlowRunAction, ctx: dict[str, Any], key: str) -> str:
    run_id = _text(spec.flow_run_id, ctx) if spec.flow_run_id else _about(ctx, "flow-run")
    if not run_id:
        raise ActionError(f"{spec.type}: no flow_run_id given and the triggering event is not about a run")
    with Session(services.engine, expire_on_commit=False) as session:
        run = session.get(FlowRun, run_id)
        if run is None:
            raise ActionError(f"{spec.type}: flow run {run_id!r} not found")
        if spec.type == "cancel-flow-run":
            if run.state_type.is_terminal:
                return f"flow run {run_id} already {run.state_type.value}"
            waiting = run.state_type in (StateType.SCHEDULED, StateType.PAUSED)
            target = State(StateType.CANCELLED if waiting else StateType.CANCELLING, message="cancelled by automation")
            force = False
        else:
            try:
                state_type = StateType((spec.state or "").upper())
            except ValueError:
                raise ActionError(f"change-flow-run-state: unknown state {spec.state!r}") from None
            target = State(state_type, name=spec.name or "", message=_text(spec.message, ctx) if spec.message else None)
            force = True
        result = runs.set_state(session, run, target, force=force)
        if result.status != "ACCEPT":
            raise ActionError(f"{spec.type}: refused: {result.reason}")
        session.commit()
    if spec.type == "cancel-flow-run":
        from control_plane.passes.reconcile import cancel_now

        cancel_now(services, run_id)
    services.wake()
    return f"flow run {run_id} -> {target.type.value}"


def pause_resume(services: Services, spec: PauseResume, ctx: dict[str, Any], key: str) -> str:
    verb, _, kind = spec.type.partition("-")
    pause = verb == "pause"
    target = _text(spec.target, ctx) if spec.target else None
    with Session(services.engine, expire_on_commit=False) as session:
        if kind == "deployment":
            deployment = _deployment(session, target or _about(ctx, "deployment") or "")
            deployment.paused = pause
            session.add(deployment)
            name = f"deployment {deployment.flow_name}/{deployment.name}"
        elif kind == "pool":
            pool_name = target or _about(ctx, "pool")
            pool = session.exec(select(Pool).where(Pool.name == pool_name)).first()
            if pool is None:
                raise ActionError(f"{spec.type}: pool {pool_name!r} not found")
            pool.paused = pause
            session.add(pool)
            name = f"pool {pool.name}"
        else:
            automation_name = target or ctx["automation"]["name"]
            automation = session.exec(select(Automation).where(Automation.name == automation_name)).first()
            if automation is None:
                raise ActionError(f"{spec.type}: automation {automation_name!r} not found")
            set_enabled(session, automation, not pause)
            name = f"automation {automation.name}"
        session.commit()
    services.wake()
    return f"{name} {'paused' if pause else 'resumed'}"


def set_enabled(session: Session, automation: Automation, enabled: bool) -> None:
    """Pause or resume; a resumed automation starts afresh from the current end of the stream."""
    if automation.enabled == enabled:
        return
    automation.enabled = enabled
    if enabled:
        last = session.exec(select(col(Event.id)).order_by(col(Event.id).desc()).limit(1)).first()
        automation.since_event = int(last or 0)
        automation.watching_since = utcnow()
        state = session.get(AutomationState, automation.id)
        if state is not None:
            session.delete(state)
    session.add(automation)


def call_webhook(services: Services, spec: CallWebhook, ctx: dict[str, Any], key: str) -> str:
    body: Any = (
        _render_json(spec.body, ctx)
        if spec.body
        else {"automation": ctx["automation"], "firing": ctx["firing"], "event": ctx["event"]}
    )
    data = json.dumps(body).encode()
    given = _resolved(spec.headers)
    headers = {"Content-Type": "application/json", **{k: _resolved(v) for k, v in given.items()}}
    if spec.secret:
        headers.update(standard_headers(_resolved(spec.secret), key, data))
    return _post(_resolved(spec.url), data, headers, spec.timeout)


def send_notification(services: Services, spec: SendNotification, ctx: dict[str, Any], key: str) -> str:
    try:
        text = render(spec.text, ctx)
    except TemplateError as exc:
        raise ActionError(f"send-notification text: {exc}") from None
    return _post(_resolved(spec.url), json.dumps({"text": text}).encode(), {"Content-Type": "application/json"}, 10.0)


HANDLERS: dict[type, Callable[[Services, Any, dict[str, Any], str], str]] = {
    RunDeployment: run_deployment,
    FlowRunAction: flow_run_action,
    PauseResume: pause_resume,
    CallWebhook: call_webhook,
    SendNotification: send_notification,
}


def shown_url(url: str) -> str:
    """A URL as errors, logs and responses show it: scheme and host only. Incoming-webhook
    URLs (Slack's, ours) carry their credential in the path."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/…"
    except ValueError:  # stored before URLs were checked: show nothing of it
        return "(an unreadable URL)"


def _post(url: str, data: bytes, headers: dict[str, str], timeout: float) -> str:
    import httpx

    shown = shown_url(url)
    timeouts = {"timeout": httpx.Timeout(timeout).as_dict()}
    try:
        # The transport, not httpx.post: httpx's client logs every request's full URL at
        # INFO, and these URLs (a Slack webhook, a block's URL) are credentials.
        with httpx.HTTPTransport() as transport:
            request = httpx.Request("POST", url, content=data, headers=headers, extensions=timeouts)
            response = transport.handle_request(request)
            response.read()
    except httpx.HTTPError as exc:
        raise ActionError(f"POST {shown} failed: {type(exc).__name__}: {exc}", retryable=True) from None
    if response.status_code >= 500 or response.status_code in (408, 429):
        raise ActionError(f"POST {shown} answered {response.status_code}", retryable=True)
    if response.status_code >= 400:
        raise ActionError(f"POST {shown} answered {response.status_code}: {response.text[:200]}")
    return f"POST {shown} -> {response.status_code}"


def _deployment(session: Session, ref: str) -> Deployment:
    found = session.get(Deployment, ref)
    if found is None and "/" in ref:
        flow_name, _, name = ref.partition("/")
        found = session.exec(
            select(Deployment).where(Deployment.flow_name == flow_name, Deployment.name == name)
        ).first()
    if found is None:
        raise ActionError(f"deployment {ref!r} not found (deleted?); point the automation at an existing one")
    return found


def _about(ctx: dict[str, Any], kind: str) -> str | None:
    """The id of the `kind` resource the triggering event is about (or relates to)."""
    event = ctx.get("event") or {}
    prefix = f"pushflow.{kind}."
    ids = [event.get("resource", {}).get("id", "")] + [r.get("id", "") for r in event.get("related", [])]
    return next((i.removeprefix(prefix) for i in ids if i.startswith(prefix)), None)


def _resolved(value: Any) -> Any:
    """A field that may name a block, as delivery resolved it before validating the spec."""
    if isinstance(value, BlockRef):  # delivery.py resolves every reference first
        raise ActionError(f"block reference {value.block!r} was not resolved")
    return value


def _render(value: Any, ctx: dict[str, Any]) -> Any:
    try:
        return render_values(value, ctx)
    except TemplateError as exc:
        raise ActionError(str(exc)) from None


def _render_json(source: str, ctx: dict[str, Any]) -> Any:
    try:
        return render_json(source, ctx)
    except TemplateError as exc:
        raise ActionError(str(exc)) from None


def _text(source: str | None, ctx: dict[str, Any]) -> str:
    try:
        return render(source or "", ctx)
    except TemplateError as exc:
        raise ActionError(str(exc)) from None
