"""Scoped API keys: the table, its API models, minting and lookup.

A key is `pfk_` + 43 random URL-safe characters, shown once. The store keeps its SHA-256
(a fast hash is right for a high-entropy secret: nothing to brute-force, and a lookup per
request costs one indexed read, no bcrypt), a short prefix to recognise it by, its scope,
when it expires, when it was revoked and when it was last used (written at most once a
minute per key, so reads stay reads).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import BaseModel
from pydantic import Field as Check
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from control_plane.columns import TABLE_CONFIG, json_number, utc_column, utcnow
from control_plane.db import read_only
from control_plane.scopes import Scope

KEY_PREFIX = "pfk_"
LAST_USED_EVERY = timedelta(seconds=60)


class ApiKey(SQLModel, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "api_key"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True)
    name: str = Field(unique=True, index=True)
    scope: str
    key_hash: str = Field(unique=True, index=True)
    prefix: str
    created: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    expires: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    revoked: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_used: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ApiKeyCreate(BaseModel):
    """A new key: its name, scope and, optionally, how many days it lives."""

    name: str = Check(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    scope: Scope = Check(description="read < run < deploy < admin; each can do what the one before can")
    expires_in_days: Annotated[int, Ge(1), Le(36500), json_number("integer")] | None = Check(
        default=None, description="Leave out: never expires"
    )


class ApiKeyPublic(BaseModel):
    """A key as listed: never the key itself, only its first characters."""

    id: str
    name: str
    scope: Scope
    prefix: str = Check(description="The key's first characters, to recognise it")
    created: datetime
    expires: datetime | None
    revoked: datetime | None
    last_used: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyPublic:
        return cls.model_validate(key, from_attributes=True)


class ApiKeyCreated(ApiKeyPublic):
    """The new key, with its secret: shown this once, never again."""

    key: str = Check(description="Send as `Authorization: Bearer <key>`; store it now, it is not shown again")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def mint(body: ApiKeyCreate) -> tuple[ApiKey, str]:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    row = ApiKey(name=body.name, scope=body.scope.value, key_hash=hash_key(secret), prefix=secret[:10], expires=expires)
    return row, secret


def find(engine: Engine, token: str) -> ApiKey | None:
    """The key `token` is, in its own short read (before the request's transaction starts:
    on SQLite a write transaction already open would make `touch` wait on itself)."""
    with Session(read_only(engine)) as session:
        return session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(token))).first()


def find_by_id(engine: Engine, key_id: str) -> ApiKey | None:
    """The key with this id (a UI session names its key by id, never by the key itself)."""
    with Session(read_only(engine)) as session:
        return session.get(ApiKey, key_id)


def why_unusable(key: ApiKey) -> str | None:
    if key.revoked is not None:
        return f"API key {key.name!r} was revoked; ask an admin for a new one"
    if key.expires is not None and key.expires <= utcnow():
        return f"API key {key.name!r} expired at {key.expires:%Y-%m-%d %H:%M} UTC; ask an admin for a new one"
    return None


def touch(engine: Engine, key: ApiKey) -> None:
    """Record the key's use, at most once a minute (one small write in its own transaction)."""
    now = utcnow()
    if key.last_used is not None and now - key.last_used < LAST_USED_EVERY:
        return
    with engine.begin() as conn:
        stale = or_(col(ApiKey.last_used).is_(None), col(ApiKey.last_used) < now - LAST_USED_EVERY)
        conn.execute(update(ApiKey).where(col(ApiKey.id) == key.id, stale).values(last_used=now))
