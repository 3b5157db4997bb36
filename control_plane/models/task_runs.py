"""Task runs, as the runtime reports them and the API answers them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, GetPydanticSchema
from pydantic_core import core_schema
from sqlmodel import Field, SQLModel

from control_plane.columns import (
    TABLE_CONFIG,
    Count,
    JsonDateTime,
    StrictCount,
    StrictDateTime,
    json_column,
    state_type_column,
    utc_column,
)
from runtime.states import State, StateType, now


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


def _state_schema(_source: Any, _handler: Any) -> Any:
    """A State built by pydantic-core from the wire model's fields, checked as that model
    checks them, and its __post_init__ (the default name) run: State's own schema
    validates a model and then calls State(...) in Python (~26k instructions a task run)."""
    cs = core_schema
    wire = [
        ("type", cs.enum_schema(StateType, list(StateType), sub_type="str")),
        ("name", cs.with_default_schema(cs.str_schema(), default="")),
        ("message", cs.with_default_schema(cs.nullable_schema(cs.str_schema()), default=None)),
        ("timestamp", cs.with_default_schema(cs.datetime_schema(), default_factory=now)),
    ]
    local = [(name, cs.with_default_schema(cs.any_schema(), default=None)) for name in ("data", "result_key")]
    fields = [cs.dataclass_field(name, schema) for name, schema in wire]
    fields += [cs.dataclass_field(name, schema, init=False) for name, schema in local]
    return cs.dataclass_schema(
        State,
        cs.dataclass_args_schema("State", fields),
        [name for name, _ in wire + local],
        post_init=True,
        serialization=cs.plain_serializer_function_ser_schema(lambda state: state.to_wire()),
    )


class TaskRunReportFromRuntime(TaskRunReport):
    """TaskRunReport checked by pydantic-core alone (columns.StrictCount): what a
    runtime's batch is tried as first (json_batches.py). It takes a subset of what
    TaskRunReport takes and gives the same values; anything else goes on to TaskRunReport,
    so its answers and 422s are TaskRunReport's. Not in the API's schema; built on first
    use (a server that never takes a runtime's batch keeps ~40 KiB)."""

    model_config = ConfigDict(defer_build=True)

    state: Annotated[State, GetPydanticSchema(_state_schema)]
    start_time: StrictDateTime | None = None
    end_time: StrictDateTime | None = None
    run_count: StrictCount = 1


class TaskRun(SQLModel, table=True):
    model_config = TABLE_CONFIG
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
