"""Direct invocations, for infrastructure code (terraform's `aws_lambda_invocation`):

- `{"pushflow": "migrate"}`: bring the schema to the newest revision;
- `{"pushflow": "tick"}`: one tick now;
- `{"pushflow": "upsert-pool", "name": ..., "type": ..., "defaults": {...}, ...}`: create
  or update a pool (the fields of `POST /api/pools`).

A bad command raises: the caller (terraform apply) fails with the message.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, select

from control_plane.aws_lambda.container import Container
from control_plane.aws_lambda.errors import CommandError
from control_plane.aws_lambda.events import COMMANDS
from control_plane.columns import utcnow


def run_command(container: Container, event: dict[str, Any], context: Any) -> dict[str, Any]:
    command = event.get("pushflow")
    if command == "migrate":
        from control_plane.db import migrate

        migrate(container.services().engine)
        return {"pushflow": "migrate", "status": "ok"}
    if command == "tick":
        from control_plane.aws_lambda.ticks import run_tick

        return run_tick(container, context)
    if command == "upsert-pool":
        return {"pushflow": "upsert-pool", "pool": upsert_pool(container, event)}
    raise CommandError(f"unknown command {command!r}; choose one of: {', '.join(COMMANDS)}")


def upsert_pool(container: Container, event: dict[str, Any]) -> dict[str, Any]:
    from control_plane.models import Pool, PoolCreate
    from push_pools import registry

    fields = {k: v for k, v in event.items() if k != "pushflow"}
    try:
        body = PoolCreate.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise CommandError(f"invalid pool: {problems}") from None
    if body.type not in registry.POOL_TYPES:
        raise CommandError(f"unknown pool type {body.type!r}; choose one of: {', '.join(registry.pool_types())}")
    services = container.services()
    _check_defaults(services.adapters.adapter_class(body.type).Job, body.defaults)
    with Session(services.engine, expire_on_commit=False) as session:
        pool = session.exec(select(Pool).where(Pool.name == body.name)).first()
        if pool is None:
            pool = Pool.model_validate(body)
        elif pool.type != body.type:
            raise CommandError(f"pool {body.name!r} is of type {pool.type!r}, not {body.type!r}; delete it first")
        else:
            for key in ("description", "defaults", "paused", "concurrency_limit"):
                if key in fields:
                    setattr(pool, key, getattr(body, key))
            pool.updated = utcnow()
        session.add(pool)
        session.commit()
        return pool.model_dump(mode="json")


def _check_defaults(job_cls: Any, defaults: dict[str, Any]) -> None:
    try:
        job_cls.model_validate(defaults)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors() if e["type"] != "missing"]
        if problems:
            raise CommandError("invalid pool defaults: " + "; ".join(problems)) from None
