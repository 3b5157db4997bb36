"""Pools: where runs go (a provider and its default job variables)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import StringConstraints, field_validator
from sqlmodel import Field, SQLModel

from control_plane.columns import TABLE_CONFIG, Count, JsonBool, json_column, new_id, utc_column, utcnow
from control_plane.masking import masked

# Letters, digits, '.', '_' and '-': pool names appear in URLs and CLI arguments.
PoolName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


def _pool_types(schema: dict[str, Any]) -> None:
    # Listed when the document is built: tests and plugins register kinds at run time.
    from push_pools import registry

    schema["enum"] = registry.pool_types()


class PoolBase(SQLModel):
    name: PoolName
    type: str = Field(schema_extra={"json_schema_extra": _pool_types})
    description: str | None = None
    defaults: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    paused: JsonBool = False
    concurrency_limit: Count | None = Field(default=None, description="At most this many active runs")


class PoolCreate(PoolBase):
    """A new pool: its name, type and default job variables."""


class PoolUpdate(SQLModel):
    """Changes to a pool; fields left out are kept (`concurrency_limit: null` lifts the limit)."""

    description: str | None = None
    defaults: dict[str, Any] | None = None
    paused: JsonBool | None = None
    concurrency_limit: Count | None = None


class Pool(PoolBase, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "pool"
    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(unique=True, index=True)
    created: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    updated: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class PoolPublic(PoolBase):
    """A pool, with the JSON schema of its type's job variables."""

    id: str
    created: datetime
    updated: datetime
    job_schema: dict[str, Any] = {}

    _masked = field_validator("defaults")(masked)
