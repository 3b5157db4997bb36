"""Request dependencies, as `Annotated` aliases so routes read like prose.

The ones that never wait on I/O are `async def`: FastAPI runs a plain `def` dependency on
a worker thread, and each such hop (a thread handoff and a GIL switch) costs a request
more than the work itself. What reads the store runs on a worker thread, off the loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from sqlmodel import Session

from control_plane import keys
from control_plane.audit import AuditedSession
from control_plane.auth import Principal, bearer, hashes_match, key_matches, parse_run_token
from control_plane.columns import utcnow
from control_plane.errors import ForbiddenError, UnauthorizedError
from control_plane.models import FlowRun
from control_plane.scopes import Scope, required_scope
from control_plane.services import Services


async def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(request: Request) -> AsyncIterator[Session]:
    # No GET route writes: reads get a transaction that does not take the write lock.
    reads = request.method in ("GET", "HEAD")
    services: Services = request.app.state.services  # not ServicesDep: one dependency fewer to solve
    if reads:
        session = Session(services.read_engine, expire_on_commit=False)
    else:  # its commit also writes the request's audit row (control_plane/audit.py)
        session = AuditedSession(request.scope, services.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction() and not reads:  # its ROLLBACK is a round trip: off the loop
            await run_in_threadpool(session.close)
        else:
            # A read's end waits on nothing: on PostgreSQL it ran without a transaction
            # (db.read_only), on SQLite it ends a deferred read in the local file. Closing
            # it here saves a worker-thread hop per GET.
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_read_engine(request: Request) -> Engine:
    """For a route that only reads, with statements of its own (no ORM objects): the
    read-only engine, its connection taken in the route's thread (`with
    engine.connect()`), with no session, its transaction and its close to pay for."""
    return request.app.state.services.read_engine  # type: ignore[no-any-return]


ReadEngineDep = Annotated[Engine, Depends(get_read_engine)]


async def get_principal(request: Request) -> Principal:
    """Who calls, from the `Authorization: Bearer` header (a missing or malformed one gets
    our own 401). The OpenAPI document declares the scheme on every operation that
    depends on this (control_plane/openapi.py): not a `Security` dependency, which
    FastAPI would solve on every request for nothing. It does not depend on the request's
    session: the admin key needs none, and a dependency more is one more for FastAPI to
    solve per request (~40k instructions), so a read route can go without a session."""
    services: Services = request.app.state.services
    token = bearer(request.headers.get("authorization"))
    if key_matches(token, services.api_key):
        return _authorized(request, Principal(admin=True))
    return await run_in_threadpool(_stored_principal, request, services, token)


def _stored_principal(request: Request, services: Services, token: str) -> Principal:
    """A run token or a scoped key: both are looked up in the store."""
    parsed = parse_run_token(token)
    if parsed is not None:
        run_id, secret_hash = parsed
        with Session(services.read_engine) as session:
            run = session.get(FlowRun, run_id)
        if run is not None and hashes_match(secret_hash, run.token_hash):
            if token_expired(run, services.settings.run_token_grace):
                request.state.refused_key = "(expired run token)"  # for the audit log
                raise UnauthorizedError(
                    f"this run token expired: its run ended at {run.end_time:%Y-%m-%d %H:%M:%S} UTC "
                    f"(tokens work {services.settings.run_token_grace:g}s after their run ends)"
                )
            return Principal(admin=False, run_id=run_id)
    key = keys.find(services.engine, token)
    if key is not None:
        problem = keys.why_unusable(key)
        if problem:
            request.state.refused_key = key.name  # for the audit log
            raise UnauthorizedError(problem)
        keys.touch(services.engine, key)
        return _authorized(request, Principal(admin=True, scope=Scope(key.scope), key_name=key.name))
    raise UnauthorizedError("invalid API key")


def _authorized(request: Request, principal: Principal) -> Principal:
    """`principal` if its key's scope covers this route (control_plane/scopes.py), else 403."""
    request.state.principal = principal  # for the audit log (which records a refused change too)
    route = request.scope.get("route")
    needed = required_scope(request.method, route.path if route is not None else request.url.path)
    if not principal.scope.covers(needed):
        raise ForbiddenError(
            f"this key's scope is {principal.scope.value!r}; {request.method} {request.url.path} needs "
            f"{needed.value!r} or above: use a key with that scope (pushflow key create NAME --scope {needed.value})"
        )
    return principal


def token_expired(run: FlowRun, grace_seconds: float) -> bool:
    """A run token dies with its run, plus a grace for the last logs in flight."""
    if not run.state_type.is_terminal or run.end_time is None:
        return False
    return utcnow() > run.end_time + timedelta(seconds=grace_seconds)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def require_admin(request: Request) -> Principal:
    """The caller, if not a run token. Calls get_principal itself rather than depending
    on it: one dependency for FastAPI to solve per request, not two."""
    principal = await get_principal(request)
    principal.require_admin()
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]
