"""A completed run's persisted return value."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from control_plane.columns import TABLE_CONFIG, json_column, utc_column, utcnow


class FlowRunResultBase(SQLModel):
    """A completed run's persisted return value: inline when it is JSON (and small), and
    where the runtime wrote it in result storage."""

    serializer: str = Field(description="How the stored value is encoded: json or pickle")
    inline: bool = Field(description="Whether `value` holds the return value (JSON values up to 256 KiB)")
    value: Any = Field(default=None, sa_column=json_column())
    storage: str | None = Field(default=None, description="The result storage the runtime wrote to")
    key: str | None = Field(default=None, description="The record's key in that storage")


class FlowRunResult(FlowRunResultBase, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "flow_run_result"
    flow_run_id: str = Field(foreign_key="flow_run.id", primary_key=True)
    created: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class FlowRunResultPublic(FlowRunResultBase):
    """A run's return value: inline JSON, or where result storage keeps it."""

    flow_run_id: str
