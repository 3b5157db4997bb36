from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import ValidationError
from sqlmodel import select

from control_plane.columns import utcnow
from control_plane.deps import AdminDep, ServicesDep, SessionDep
from control_plane.errors import ConflictError, InvalidInputError, NotFoundError
from control_plane.models import Pool, PoolCreate, PoolPublic, PoolUpdate
from push_pools import registry

router = APIRouter(prefix="/pools", tags=["pools"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_pool(body: PoolCreate, session: SessionDep, services: ServicesDep, _: AdminDep) -> PoolPublic:
    if body.type not in registry.POOL_TYPES:
        raise InvalidInputError(f"unknown pool type {body.type!r}; choose one of: {', '.join(registry.pool_types())}")
    job_cls = services.adapters.adapter_class(body.type).Job
    _check_defaults(job_cls, body.defaults)
    if session.exec(select(Pool).where(Pool.name == body.name)).first():
        raise ConflictError(f"pool {body.name!r} exists; change it with PATCH /api/pools/{body.name}")
    pool = Pool.model_validate(body)
    session.add(pool)
    session.commit()
    return _public(pool, job_cls)


@router.get("")
def list_pools(session: SessionDep, services: ServicesDep, _: AdminDep) -> list[PoolPublic]:
    pools = session.exec(select(Pool).order_by(Pool.name)).all()
    return [_public(p, services.adapters.adapter_class(p.type).Job) for p in pools]


@router.get("/{name}")
def read_pool(name: str, session: SessionDep, services: ServicesDep, _: AdminDep) -> PoolPublic:
    pool = get_pool(session, name)
    return _public(pool, services.adapters.adapter_class(pool.type).Job)


@router.patch("/{name}")
def update_pool(name: str, body: PoolUpdate, session: SessionDep, services: ServicesDep, _: AdminDep) -> PoolPublic:
    pool = get_pool(session, name)
    job_cls = services.adapters.adapter_class(pool.type).Job
    changes = body.model_dump(exclude_unset=True)
    if changes.get("defaults") is not None:
        _check_defaults(job_cls, changes["defaults"])
    for key, value in changes.items():
        if value is not None or key == "concurrency_limit":  # null lifts the limit
            setattr(pool, key, value)
    pool.updated = utcnow()
    session.add(pool)
    session.commit()
    services.wake()  # resumed, or given more slots: dispatch what waits
    return _public(pool, job_cls)


def get_pool(session: SessionDep, name: str) -> Pool:
    pool = session.exec(select(Pool).where(Pool.name == name)).first()
    if pool is None:
        raise NotFoundError(f"pool {name!r} not found; create it with `pushflow pool create {name} --type process`")
    return pool


def _check_defaults(job_cls: Any, defaults: dict[str, Any]) -> None:
    """Pool defaults may leave out required variables (a deployment or run gives them),
    but what they do set must be valid."""
    try:
        job_cls.model_validate(defaults)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors() if e["type"] != "missing"]
        if problems:
            raise InvalidInputError("invalid pool defaults: " + "; ".join(problems)) from None


def _public(pool: Pool, job_cls: Any) -> PoolPublic:
    return PoolPublic(**pool.model_dump(), job_schema=job_cls.model_json_schema())
