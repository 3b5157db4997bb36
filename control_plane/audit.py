"""The audit log: who changed what, when, and who was turned away. Every state-changing
request (POST, PUT, PATCH, DELETE) made with an API key, or a UI post from a session
(control_plane/ui/deps.py sets the same principal), is recorded with the key's name (or
`admin` for the bootstrap key), the route and the status of its answer; so is a change
refused for its key's scope (403). A request that commits through its session
(control_plane/deps.py) writes its row in that same transaction, with the status the
route answers on success (`record_in_transaction`): no write of its own, on a thread of
its own, after the answer. If the answer turns out different (a failure after the
commit), the row's status is corrected after it; a request that commits nothing (refused,
failed) is recorded after its answer. Every refused authentication (401, any method: a
wrong, revoked or expired key, a failed UI sign-in) is recorded too, under the key's name
when the key is known, else `(unknown key)` / `(no key)`, scope `none`; at most
REFUSALS_PER_SECOND of those a second per process (they cost an unauthenticated caller
nothing, so they must not become a way to fill the table; the excess is counted in the
server log). Run tokens' reports (logs, states, heartbeats) are the run's own business and
are not recorded here; the event log has the state changes. Read it at GET /api/audit
(admin scope).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

import anyio
from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, Index, Integer, event, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from control_plane.bulk import insert_one_returning_id
from control_plane.columns import TABLE_CONFIG, utc_column, utcnow

CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSALS_PER_SECOND = 10.0
REFUSALS_BURST = 100.0
NO_SCOPE = "none"
UNKNOWN_KEY, NO_KEY = "(unknown key)", "(no key)"

log = logging.getLogger("pushflow.audit")


class _RefusalBudget:
    """A token bucket: how many refused authentications this process still records now.
    Per process on purpose: nothing another process needs, and N processes record at most
    N times the rate."""

    def __init__(self, rate: float = REFUSALS_PER_SECOND, burst: float = REFUSALS_BURST) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.at = burst, time.monotonic()
        self.dropped, self.reported = 0, float("-inf")  # the first drop is logged at once

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.dropped += 1
        if now - self.reported >= 60:
            log.warning(
                "audit log: %d refused authentication(s) not recorded (more than %g a second)", self.dropped, self.rate
            )
            self.dropped, self.reported = 0, now
        return False


_refusals = _RefusalBudget()


class AuditEntry(SQLModel, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "audit_entry"
    # GET /api/audit?status=401: newest first within one status, without scanning the log.
    __table_args__ = (Index("ix_audit_entry_status_id", "status", "id"),)
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
        state = scope.get("state", {})
        recorded = state.get(RECORDED)
        if recorded is not None:  # in the request's own transaction (record_in_transaction)
            entry_id, recorded_status = recorded
            if recorded_status != status:  # it failed after its commit
                engine = scope["app"].state.services.autocommit_engine
                await anyio.to_thread.run_sync(_correct_status, engine, entry_id, status)
            return
        principal = state.get("principal")
        if principal is None or principal.run_id is not None or status == 401:  # 401s: record_refusal
            return
        actor, key_scope = principal.key_name or "admin", principal.scope.value
        await _record(scope, actor, key_scope, status)


# Keys of what a request's session and scope carry for `record_in_transaction`.
SCOPE, PENDING, RECORDED = "pushflow_audit_scope", "pushflow_audit_pending", "pushflow_audit_recorded"


class AuditedSession(Session):
    """A state-changing request's session (control_plane/deps.py): its first commit also
    writes the request's audit row, when it was made with a key (`record_in_transaction`)."""

    def __init__(self, scope: Scope, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.info[SCOPE] = scope


# Built once, not per request (`insert(...).values(entry)` also compiled a new one each time).
_INSERT = insert(AuditEntry)


@event.listens_for(AuditedSession, "before_commit")
def record_in_transaction(session: Session) -> None:
    """The request's row, in the transaction being committed, with the status the route
    answers on success (its declared one). Marked recorded only once the commit succeeds."""
    scope = session.info[SCOPE]
    state = scope.setdefault("state", {})
    principal = state.get("principal")
    if RECORDED in state or PENDING in session.info or principal is None or principal.run_id is not None:
        return
    status = getattr(scope.get("route"), "status_code", None) or 200
    entry = _entry(scope, principal.key_name or "admin", principal.scope.value, status)
    entry_id = insert_one_returning_id(session.connection(), AuditEntry.__table__, entry)  # type: ignore[attr-defined]
    session.info[PENDING] = (entry_id, status)


@event.listens_for(AuditedSession, "after_commit")
def _committed(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if pending is not None:
        session.info[SCOPE].setdefault("state", {})[RECORDED] = pending


@event.listens_for(AuditedSession, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(PENDING, None)  # its row went with the transaction


def _correct_status(engine: Engine, entry_id: int, status: int) -> None:
    with engine.begin() as connection:
        connection.execute(update(AuditEntry).where(col(AuditEntry.id) == entry_id).values(status=status))


async def record_refusal(scope: Scope, known_key: str | None = None) -> None:
    """Record a refused authentication (answered 401): the key's name when the store knows
    it (revoked, expired), else whether a key was sent at all. Within the budget only."""
    if _refusals.take():
        await _record(scope, known_key or _anonymous(scope), NO_SCOPE, 401)


async def _record(scope: Scope, actor: str, key_scope: str, status: int) -> None:
    entry = _entry(scope, actor, key_scope, status)
    # One INSERT, atomic by itself: on PostgreSQL without BEGIN/COMMIT round trips.
    engine = scope["app"].state.services.autocommit_engine
    await anyio.to_thread.run_sync(_write, engine, entry)


def _entry(scope: Scope, actor: str, key_scope: str, status: int) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "actor": actor,
        "scope": key_scope,
        "method": scope["method"],
        "path": scope["path"],
        "route": getattr(scope.get("route"), "path", None),
        "status": status,
    }


def _anonymous(scope: Scope) -> str:
    """Who a refused request was, when its key is not one the store knows."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization" and value.partition(b" ")[2].strip():
            return UNKNOWN_KEY
    return NO_KEY


def _write(engine: Engine, entry: dict[str, Any]) -> None:
    with engine.begin() as connection:
        connection.execute(_INSERT, [entry])
