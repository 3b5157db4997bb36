"""Task runs, as the runtime reports them and the API answers them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from control_plane.columns import Count, JsonDateTime, json_column, state_type_column, utc_column
from runtime.states import State, StateType


class TaskRunReport(BaseModel):
    """A task run as the runtime reports it."""

    id: str
    name: str
    task_key: str
    dynamic_key: str = "0"
    tags: list[str] = []
    state: State
    start_time: JsonDateTime | None = None
    end_time: JsonDateTime | None = None
    run_count: Count = 1


class TaskRun(SQLModel, table=True):
    __tablename__ = "task_run"
    id: str = Field(primary_key=True)
    flow_run_id: str = Field(foreign_key="flow_run.id", index=True)
    name: str
    task_key: str
    dynamic_key: str
    tags: list[str] = Field(default_factory=list, sa_column=json_column(nullable=False))
    state_type: StateType = Field(sa_column=state_type_column(nullable=False))
    state_name: str
    state_message: str | None = None
    state_timestamp: datetime = Field(sa_column=utc_column(nullable=False))
    start_time: datetime | None = Field(default=None, sa_column=utc_column())
    end_time: datetime | None = Field(default=None, sa_column=utc_column())
    run_count: int = 1


class TaskRunPublic(BaseModel):
    """A task run of a flow run."""

    id: str
    flow_run_id: str
    name: str
    task_key: str
    dynamic_key: str
    tags: list[str]
    state: State
    start_time: datetime | None
    end_time: datetime | None
    run_count: int

    @classmethod
    def of(cls, row: TaskRun) -> TaskRunPublic:
        state = State(row.state_type, row.state_name, row.state_message, row.state_timestamp)
        return cls(**row.model_dump(), state=state)
