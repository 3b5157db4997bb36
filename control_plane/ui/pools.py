"""Pools: type, paused state, concurrency and active runs; one pool's job variable
defaults, secrets masked."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import func
from sqlmodel import col, select

from control_plane.deps import ServicesDep, SessionDep
from control_plane.errors import ControlPlaneError
from control_plane.masking import mask_secrets
from control_plane.models import FlowRun, Pool, PoolUpdate
from control_plane.orchestration.rules import ACTIVE_TYPES
from control_plane.routes import pools as pool_routes
from control_plane.ui.deps import FormDep, UiSessionDep, allowed
from control_plane.ui.render import error_text, render
from control_plane.ui.session import UiSession

router = APIRouter(include_in_schema=False)
CanChange = Annotated[UiSession, allowed("PATCH", "/pools/{name}")]


def _active_runs(session: SessionDep) -> dict[str, int]:
    query = (
        select(FlowRun.pool, func.count())
        .where(col(FlowRun.state_type).in_(list(ACTIVE_TYPES)))
        .group_by(col(FlowRun.pool))
    )
    return {str(pool): count for pool, count in session.exec(query)}


@router.get("/ui/pools")
def pools_page(request: Request, session: SessionDep, ui: UiSessionDep) -> Response:
    pools = list(session.exec(select(Pool).order_by(col(Pool.name))))
    return render(request, "pools.html", session=ui, pools=pools, active=_active_runs(session))


@router.post("/ui/pools/{name}/pause", status_code=303)
def pause_pool(name: str, session: SessionDep, services: ServicesDep, ui: CanChange, form: FormDep) -> Response:
    paused = form.get("paused") == "true"
    try:
        pool_routes.update_pool(name, PoolUpdate(paused=paused), session, services, ui.principal)
    except ControlPlaneError as exc:
        notice = error_text(exc)
    else:
        notice = "Pool paused: its runs wait, nothing is submitted." if paused else "Pool resumed."
    return RedirectResponse(f"/ui/pools/{quote(name)}?notice={quote(notice)}", status_code=303)


@router.get("/ui/pools/{name}")
def pool_page(
    request: Request, name: str, session: SessionDep, ui: UiSessionDep, notice: str | None = None
) -> Response:
    pool = session.exec(select(Pool).where(Pool.name == name)).first()
    if pool is None:
        return render(request, "not_found.html", session=ui, status_code=404, message=f"pool {name!r} not found")
    job_schema = request.app.state.services.adapters.adapter_class(pool.type).Job.model_json_schema()
    properties = job_schema.get("properties", {})
    defaults = mask_secrets(pool.defaults or {})
    variables = [
        {
            "name": key,
            "value": json.dumps(defaults[key]) if key in defaults else None,
            "schema_default": json.dumps(mask_secrets(spec.get("default"), key)) if "default" in spec else None,
            "description": spec.get("description", ""),
        }
        for key, spec in properties.items()
    ]
    extra = [
        {"name": k, "value": json.dumps(v), "schema_default": None, "description": ""} for k, v in defaults.items()
    ]
    variables += [v for v in extra if v["name"] not in properties]
    active = _active_runs(session).get(pool.name, 0)
    return render(request, "pool.html", session=ui, pool=pool, variables=variables, active=active, notice=notice)
