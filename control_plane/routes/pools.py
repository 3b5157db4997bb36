from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from sqlmodel import col, select

from control_plane.columns import utcnow
from control_plane.deps import AdminDep, ServicesDep, SessionDep
from control_plane.errors import ConflictError, InvalidInputError, NotFoundError
from control_plane.job_variables import check_defaults
from control_plane.masking import refuse_mask, restore_masked
from control_plane.models import Deployment, Pool, PoolCreate, PoolPublic, PoolUpdate
from push_pools import registry

router = APIRouter(prefix="/pools", tags=["pools"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_pool(body: PoolCreate, session: SessionDep, services: ServicesDep, _: AdminDep) -> PoolPublic:
    """Create a pool of one type (process, ecs, cloud-run, aci, managed) with default job variables."""
    if body.type not in registry.POOL_TYPES:
        raise InvalidInputError(f"unknown pool type {body.type!r}; choose one of: {', '.join(registry.pool_types())}")
    job_cls = services.adapters.adapter_class(body.type).Job
    refuse_mask(body.defaults, "defaults")
    check_defaults(job_cls, body.defaults)
    if session.exec(select(Pool).where(Pool.name == body.name)).first():
        raise ConflictError(
            f"pool {body.name!r} already exists; change it with `pushflow pool update {body.name}` "
            f"(PATCH /api/pools/{body.name}) or pick another name"
        )
    pool = Pool.model_validate(body)
    session.add(pool)
    session.commit()
    return _public(pool, job_cls)


@router.get("")
def list_pools(session: SessionDep, services: ServicesDep, _: AdminDep) -> list[PoolPublic]:
    """Every pool, by name."""
    pools = session.exec(select(Pool).order_by(Pool.name)).all()
    return [_public(p, services.adapters.get(p.type).Job) for p in pools]


@router.get("/{name}")
def read_pool(name: str, session: SessionDep, services: ServicesDep, _: AdminDep) -> PoolPublic:
    """One pool, with the JSON schema of its type's job variables."""
    pool = get_pool(session, name)
    return _public(pool, services.adapters.get(pool.type).Job)


@router.patch("/{name}")
def update_pool(name: str, body: PoolUpdate, session: SessionDep, services: ServicesDep, _: AdminDep) -> PoolPublic:
    """Change a pool's description, defaults or concurrency limit (null lifts it), or
    pause it (`paused: true`: its runs wait, nothing is submitted) and resume it."""
    pool = get_pool(session, name)
    job_cls = services.adapters.get(pool.type).Job
    changes = body.model_dump(exclude_unset=True)
    if changes.get("defaults") is not None:
        changes["defaults"] = restore_masked(changes["defaults"], pool.defaults)
        refuse_mask(changes["defaults"], "defaults")
        check_defaults(job_cls, changes["defaults"])
    for key, value in changes.items():
        if value is not None or key == "concurrency_limit":  # null lifts the limit
            setattr(pool, key, value)
    pool.updated = utcnow()
    session.add(pool)
    session.commit()
    services.wake()  # resumed, or given more slots: dispatch what waits
    return _public(pool, job_cls)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_pool(name: str, session: SessionDep, _: AdminDep) -> Response:
    """Delete a pool no deployment uses (409 names the deployments that still do)."""
    pool = get_pool(session, name)
    users = session.exec(
        select(Deployment).where(Deployment.pool == name).order_by(col(Deployment.flow_name), col(Deployment.name))
    ).all()
    if users:
        names = ", ".join(f"{d.flow_name}/{d.name}" for d in users)
        raise ConflictError(
            f"pool {name!r} is used by {len(users)} deployment(s): {names}; delete them "
            "(`pushflow deployment delete FLOW/NAME`) or redeploy them to another pool first"
        )
    session.delete(pool)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def get_pool(session: SessionDep, name: str) -> Pool:
    pool = session.exec(select(Pool).where(Pool.name == name)).first()
    if pool is None:
        raise NotFoundError(f"pool {name!r} not found; create it with `pushflow pool create {name} --type process`")
    return pool


def _public(pool: Pool, job_cls: Any) -> PoolPublic:
    return PoolPublic(**pool.model_dump(), job_schema=job_cls.model_json_schema())
