"""Log lines of a run, as the runtime sends them and the API answers them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Field, SQLModel

from control_plane.columns import TABLE_CONFIG, Count, JsonFloat, StrictCount, StrictFloat, utc_column


class LogCreate(BaseModel):
    """One log line sent by the runtime."""

    level: Count = 20
    name: str = "pushflow"
    message: str
    timestamp: JsonFloat  # seconds since the epoch, as logging records them
    task_run_id: str | None = None


class LogCreateFromRuntime(LogCreate):
    """LogCreate checked by pydantic-core alone (columns.StrictCount): what a runtime's
    batch is tried as first (json_batches.py); anything it refuses goes on to LogCreate.
    Not in the API's schema; built on first use."""

    model_config = ConfigDict(defer_build=True)

    level: StrictCount = 20
    timestamp: StrictFloat


class Log(SQLModel, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "log"
    id: int | None = Field(default=None, primary_key=True)
    flow_run_id: str = Field(foreign_key="flow_run.id", index=True)
    task_run_id: str | None = None
    level: int
    name: str
    message: str
    timestamp: datetime = Field(sa_column=utc_column(nullable=False))


class LogPublic(BaseModel):
    """One log line of a run."""

    id: int
    flow_run_id: str
    task_run_id: str | None
    level: int
    name: str
    message: str
    timestamp: datetime
