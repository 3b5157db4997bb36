"""The audit log: who changed what, when. Every state-changing request (POST, PUT, PATCH,
DELETE) made with an API key, or a UI post from a session (control_plane/ui/deps.py sets
the same principal), is recorded after its answer, with the key's name (or
`admin` for the bootstrap key), the route and the status. Run tokens' reports (logs,
states, heartbeats) are the run's own business and are not recorded here; the event log
has the state changes. Read it at GET /api/audit (admin scope).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import anyio
from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, Integer, insert
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from control_plane.columns import utc_column, utcnow

CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    )
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False, index=True))
    actor: str
    scope: str
    method: str
    path: str
    route: str | None = None
    status: int


class AuditEntryPublic(BaseModel):
    """One state-changing request: who (the key's name, `admin` for the bootstrap key),
    with which scope, what (method, path, route) and how it was answered."""

    id: int
    at: datetime
    actor: str
    scope: str
    method: str
    path: str
    route: str | None
    status: int


class AuditLog:
    """ASGI middleware: after a state-changing request a key made, one row."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in CHANGES:
            await self.app(scope, receive, send)
            return
        status = 500

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, remember_status)
        principal = scope.get("state", {}).get("principal")
        if principal is None or principal.run_id is not None:
            return
        route = scope.get("route")
        entry = {
            "at": utcnow(),
            "actor": principal.key_name or "admin",
            "scope": principal.scope.value,
            "method": scope["method"],
            "path": scope["path"],
            "route": getattr(route, "path", None),
            "status": status,
        }
        # One INSERT, atomic by itself: on PostgreSQL without BEGIN/COMMIT round trips.
        engine = scope["app"].state.services.autocommit_engine
        await anyio.to_thread.run_sync(_write, engine, entry)


def _write(engine: Engine, entry: dict[str, Any]) -> None:
    with engine.begin() as connection:
        connection.execute(insert(AuditEntry), [entry])
