"""The store's tables and the API's request/response models, as entity families:
`XBase` (shared fields), `XCreate` (request), `X` (table), `XPublic` (response), so that
table-only columns such as a run's token hash never leak into responses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints, field_validator
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from control_plane import attempts as _attempts  # noqa: F401 - registers its table
from control_plane import audit as _audit  # noqa: F401 - registers its table
from control_plane import blocks as _blocks  # noqa: F401 - registers its table
from control_plane import events as _events  # noqa: F401 - registers its table
from control_plane import keys as _keys  # noqa: F401 - registers its table
from control_plane import tag_limits as _tag_limits  # noqa: F401 - registers its tables
from control_plane import webhook_models as _webhooks  # noqa: F401 - registers its tables
from control_plane.automations import models as _automations  # noqa: F401 - registers its tables
from control_plane.columns import (
    Count,
    JsonBool,
    JsonDateTime,
    JsonFloat,
    Seconds,
    json_column,
    state_type_column,
    utc_column,
    utcnow,
)
from control_plane.masking import masked
from control_plane.schedules import ScheduleCreate, SchedulePublic
from control_plane.sources import Source
from runtime.states import State, StateType


def new_id() -> str:
    return str(uuid.uuid4())


# Pools ---------------------------------------------------------------------------------


# Letters, digits, '.', '_' and '-': pool names appear in URLs and CLI arguments.
# PostgreSQL text cannot hold NUL: names refuse it on every backend alike.
NoNulStr = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
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


# Deployments ---------------------------------------------------------------------------


class DeploymentBase(SQLModel):
    name: NoNulStr = Field(min_length=1, max_length=100)
    flow_name: NoNulStr = Field(min_length=1, max_length=200)
    entrypoint: str = Field(min_length=3, description="path/to/file.py:flow_function")
    working_dir: str | None = Field(
        default=None, description="Where the entrypoint's path is relative to, if it exists where the run starts"
    )
    pool: str
    # Where the code comes from (control_plane/sources.py); None: the image or working_dir.
    source: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    description: str | None = None
    tags: list[str] = Field(default_factory=list, sa_column=json_column(nullable=False))
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    parameter_schema: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    job_variables: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    paused: JsonBool = False
    concurrency_limit: Count | None = Field(default=None, description="At most this many active runs")
    # Crash retries: a flow's own `@flow(retries=)` run inside its container (policy.py).
    retries: Count = Field(
        default=0,
        description="Re-submit a run on new infrastructure this many times when its infrastructure ended "
        "without a final state (a crash). A FAILED run is never re-run: the flow's own retries ran in its container",
    )
    retry_delay_seconds: Seconds = Field(default=0, description="Seconds before such a re-submission")


class DeploymentCreate(DeploymentBase):
    """A deployment, declared whole (upsert by flow name and name); `schedules` replaces its schedules."""

    source: Source | None = None  # type: ignore[assignment]
    # Replaces the deployment's schedules on upsert; leave out to keep them.
    schedules: list[ScheduleCreate] | None = None


class DeploymentUpdate(SQLModel):
    """Changes to a deployment; fields left out are kept (`concurrency_limit: null` lifts the limit)."""

    paused: JsonBool | None = None
    concurrency_limit: Count | None = None
    retries: Count | None = None
    retry_delay_seconds: Seconds | None = None


class Deployment(DeploymentBase, table=True):
    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("flow_name", "name", name="uq_deployment_flow_name"),)
    id: str = Field(default_factory=new_id, primary_key=True)
    created: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    updated: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class DeploymentPublic(DeploymentBase):
    """A deployment and its schedules."""

    id: str
    created: datetime
    updated: datetime
    schedules: list[SchedulePublic] = []

    _masked = field_validator("job_variables")(masked)


# Flow runs -----------------------------------------------------------------------------


class FlowRunCreate(BaseModel):
    """What a triggered run gets beyond the deployment's defaults."""

    parameters: dict[str, Any] = {}
    job_variables: dict[str, Any] = {}
    idempotency_key: str | None = None
    scheduled_start_time: JsonDateTime | None = None
    name: str | None = None


class FlowRun(SQLModel, table=True):
    __tablename__ = "flow_run"
    __table_args__ = (
        Index("ix_flow_run_state_due", "state_type", "expected_start_time"),
        Index("ix_flow_run_created", "created", "id"),
        UniqueConstraint("deployment_id", "idempotency_key", name="uq_flow_run_idempotency"),
        # A schedule makes at most one run per slot, however many schedulers run.
        UniqueConstraint("deployment_id", "schedule_id", "scheduled_time", name="uq_flow_run_schedule_slot"),
    )
    id: str = Field(default_factory=new_id, primary_key=True)
    name: str
    flow_name: str = Field(index=True)
    deployment_id: str | None = Field(default=None, foreign_key="deployment.id", index=True)
    # A subflow's run points at its parent flow run and the task run that called it.
    parent_flow_run_id: str | None = Field(default=None, index=True)
    parent_task_run_id: str | None = None
    pool: str | None = None
    entrypoint: str | None = None
    working_dir: str | None = None
    source: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    job_variables: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    idempotency_key: str | None = None
    state_type: StateType = Field(sa_column=state_type_column(nullable=False))
    state_name: str
    state_message: str | None = None
    state_timestamp: datetime = Field(sa_column=utc_column(nullable=False))
    # Bumped on every state change; state writes are a compare-and-set on it.
    state_version: int = 0
    # The id of the last accepted proposal: the same proposal again is a no-op.
    last_transition_id: str | None = None
    schedule_id: str | None = None
    scheduled_time: datetime | None = Field(default=None, sa_column=utc_column())
    created: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    expected_start_time: datetime | None = Field(default=None, sa_column=utc_column())
    start_time: datetime | None = Field(default=None, sa_column=utc_column())
    end_time: datetime | None = Field(default=None, sa_column=utc_column())
    run_count: int = 0
    infra_provider: str | None = None
    infra_id: str | None = None
    infra_console_url: str | None = None
    token_hash: str | None = None
    heartbeat_time: datetime | None = Field(default=None, sa_column=utc_column())
    # When the pool was asked to stop this run's infrastructure (CANCELLING): set once,
    # with a compare-and-set, by whichever process sends the stop.
    cancel_sent_time: datetime | None = Field(default=None, sa_column=utc_column())
    # Submissions so far (each gets new infrastructure and a fresh token), and how many
    # of them were infrastructure retries (provider throttling, capacity).
    dispatch_count: int = 0
    infra_retries: int = 0

    @property
    def state(self) -> State:
        return State(
            type=self.state_type,
            name=self.state_name,
            message=self.state_message,
            timestamp=self.state_timestamp,
        )


class Infrastructure(BaseModel):
    """Where a run's infrastructure is: provider, id and console link."""

    provider: str | None = None
    id: str | None = None
    console_url: str | None = None


class FlowRunPublic(BaseModel):
    """A flow run: its state, parameters, pool and infrastructure, and its timing."""

    id: str
    name: str
    flow_name: str
    deployment_id: str | None
    parent_flow_run_id: str | None = None
    parent_task_run_id: str | None = None
    state: State
    parameters: dict[str, Any]
    job_variables: dict[str, Any]
    pool: str | None
    entrypoint: str | None
    working_dir: str | None
    source: dict[str, Any] | None = None
    infrastructure: Infrastructure
    idempotency_key: str | None
    created: datetime
    expected_start_time: datetime | None
    start_time: datetime | None
    end_time: datetime | None
    run_count: int
    schedule_id: str | None = None
    heartbeat_time: datetime | None = None
    dispatch_count: int = 0
    infra_retries: int = 0
    # Filled when one run is read (GET /api/flow-runs/{id}): pushflow.runtime.deployment.name.
    deployment_name: str | None = None

    _masked = field_validator("job_variables")(masked)

    @classmethod
    def of(cls, run: FlowRun) -> FlowRunPublic:
        return cls.of_columns({name: getattr(run, name) for name in FLOW_RUN_PUBLIC_NAMES})

    @classmethod
    def of_row(cls, row: Sequence[Any]) -> FlowRunPublic:
        """From a row of `FLOW_RUN_PUBLIC_COLUMNS` (no ORM object needed)."""
        return cls.of_columns(dict(zip(FLOW_RUN_PUBLIC_NAMES, row, strict=True)))

    @classmethod
    def of_columns(cls, values: dict[str, Any]) -> FlowRunPublic:
        """From FlowRun's column values (the state as its wire fields: not a State turned
        into text and parsed back)."""
        values["state"] = {
            "type": values.pop("state_type"),
            "name": values.pop("state_name"),
            "message": values.pop("state_message"),
            "timestamp": values.pop("state_timestamp"),
        }
        values["infrastructure"] = {
            "provider": values.pop("infra_provider"),
            "id": values.pop("infra_id"),
            "console_url": values.pop("infra_console_url"),
        }
        return cls.model_validate(values)


# The FlowRun columns a FlowRunPublic is made of (never token_hash): what listings select.
FLOW_RUN_PUBLIC_NAMES = (
    *(name for name in FlowRunPublic.model_fields if name in FlowRun.model_fields),
    *("state_type", "state_name", "state_message", "state_timestamp"),
    *("infra_provider", "infra_id", "infra_console_url"),
)
FLOW_RUN_PUBLIC_COLUMNS = tuple(FlowRun.__table__.c[name] for name in FLOW_RUN_PUBLIC_NAMES)  # type: ignore[attr-defined]


class FlowRunPage(BaseModel):
    """A page of runs; pass `next_cursor` back as `cursor` for the next one."""

    items: list[FlowRunPublic]
    next_cursor: str | None = None


class StateProposal(BaseModel):
    """A state the runtime (or an admin, with `force`) proposes for a run."""

    state: State
    force: JsonBool = False
    transition_id: str | None = Field(
        default=None, max_length=100, description="Send the same id again to repeat a proposal safely"
    )


class HeartbeatResult(BaseModel):
    """The run's current state, answered to a heartbeat."""

    state: State


class OrchestrationResult(BaseModel):
    """Whether a proposed state was accepted, the run's state after, and why not."""

    status: str  # ACCEPT | REJECT
    state: State
    reason: str | None = None


# Flow run results ----------------------------------------------------------------------


class FlowRunResultBase(SQLModel):
    """A completed run's persisted return value: inline when it is JSON (and small), and
    where the runtime wrote it in result storage."""

    serializer: str = Field(description="How the stored value is encoded: json or pickle")
    inline: bool = Field(description="Whether `value` holds the return value (JSON values up to 256 KiB)")
    value: Any = Field(default=None, sa_column=json_column())
    storage: str | None = Field(default=None, description="The result storage the runtime wrote to")
    key: str | None = Field(default=None, description="The record's key in that storage")


class FlowRunResult(FlowRunResultBase, table=True):
    __tablename__ = "flow_run_result"
    flow_run_id: str = Field(foreign_key="flow_run.id", primary_key=True)
    created: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class FlowRunResultPublic(FlowRunResultBase):
    """A run's return value: inline JSON, or where result storage keeps it."""

    flow_run_id: str


# Task runs and logs --------------------------------------------------------------------


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


class LogCreate(BaseModel):
    """One log line sent by the runtime."""

    level: Count = 20
    name: str = "pushflow"
    message: str
    timestamp: JsonFloat  # seconds since the epoch, as logging records them
    task_run_id: str | None = None


class Log(SQLModel, table=True):
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
