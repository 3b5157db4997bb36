"""Flow runs: the table, what a trigger sends, what the API answers, and the state
proposals the runtime makes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any

from pydantic import BaseModel, field_validator
from pydantic_core import to_json
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from control_plane.columns import (
    TABLE_CONFIG,
    JsonBool,
    JsonDateTime,
    json_column,
    new_id,
    state_type_column,
    utc_column,
    utcnow,
)
from control_plane.masking import masked
from runtime.states import DEFAULT_NAMES, State, StateType, iso_text


class FlowRunCreate(BaseModel):
    """What a triggered run gets beyond the deployment's defaults."""

    parameters: dict[str, Any] = {}
    job_variables: dict[str, Any] = {}
    idempotency_key: str | None = None
    scheduled_start_time: JsonDateTime | None = None
    name: str | None = None


class FlowRun(SQLModel, table=True):
    model_config = TABLE_CONFIG
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

    @staticmethod
    def json_of_row(row: Sequence[Any], deployment_name: str | None = None) -> bytes:
        """The JSON of `of_row(row)` with its `deployment_name`, byte for byte, without
        building the model (as FlowRunPage.json_of_rows: a run read from the store, or
        just written, needs no validation)."""
        item = _wire_item(row)
        item["deployment_name"] = deployment_name
        return to_json(item)

    @staticmethod
    def json_of(run: FlowRun) -> bytes:
        """The JSON of `of(run)`, byte for byte (see `json_of_row`)."""
        return FlowRunPublic.json_of_row(_public_values(run))

    @classmethod
    def of_columns(cls, values: dict[str, Any]) -> FlowRunPublic:
        """From FlowRun's column values (the state as its wire fields: not a State turned
        into text and parsed back)."""
        return cls.model_validate(public_fields(values))


def public_fields(values: dict[str, Any]) -> dict[str, Any]:
    """FlowRun's column values (`values`, changed in place) as FlowRunPublic's fields."""
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
    return values


# The FlowRun columns a FlowRunPublic is made of (never token_hash): what listings select.
FLOW_RUN_PUBLIC_NAMES = (
    *(name for name in FlowRunPublic.model_fields if name in FlowRun.model_fields),
    *("state_type", "state_name", "state_message", "state_timestamp"),
    *("infra_provider", "infra_id", "infra_console_url"),
)
FLOW_RUN_PUBLIC_COLUMNS = tuple(FlowRun.__table__.c[name] for name in FLOW_RUN_PUBLIC_NAMES)  # type: ignore[attr-defined]
_public_values = attrgetter(*FLOW_RUN_PUBLIC_NAMES)  # a FlowRun's row of those columns


class FlowRunPage(BaseModel):
    """A page of runs; pass `next_cursor` back as `cursor` for the next one."""

    items: list[FlowRunPublic]
    next_cursor: str | None = None

    @classmethod
    def of_rows(cls, rows: Sequence[Sequence[Any]], next_cursor: str | None) -> FlowRunPage:
        """From rows of `FLOW_RUN_PUBLIC_COLUMNS`, validated in one call (not one per run)."""
        items = [public_fields(dict(zip(FLOW_RUN_PUBLIC_NAMES, row, strict=True))) for row in rows]
        return cls.model_validate({"items": items, "next_cursor": next_cursor})

    @staticmethod
    def json_of_rows(rows: Sequence[Sequence[Any]], next_cursor: str | None) -> bytes:
        """The JSON of `of_rows(rows, next_cursor)`, byte for byte, without building the
        models: rows read from the store need no validation, only what FlowRunPublic's
        validators do to them (the state's wire form, masked job variables), and
        serialising plain values costs what serialising the models did. Validating a
        page of 50 and serialising it was ~45% of a listing's CPU
        (tests/control_plane/test_api_flow_runs.py holds the two to the same bytes)."""
        items = [_wire_item(row) for row in rows]
        return to_json({"items": items, "next_cursor": next_cursor})


def _wire_item(row: Sequence[Any]) -> dict[str, Any]:
    """FlowRunPublic's JSON fields, in its order, from a row of FLOW_RUN_PUBLIC_COLUMNS:
    a copy of the fields in order (updating a key keeps its place), the columns shown as
    they are set in one C call, then the three made of several columns or masked."""
    if len(row) != len(FLOW_RUN_PUBLIC_NAMES):
        raise ValueError(f"a row of {len(row)} columns, not FLOW_RUN_PUBLIC_COLUMNS' {len(FLOW_RUN_PUBLIC_NAMES)}")
    item = dict(_WIRE_DEFAULTS)
    item.update(zip(_AS_IS_NAMES, _as_is(row), strict=True))
    state_type = row[_STATE_TYPE]
    item["state"] = {
        "type": state_type.value,
        "name": row[_STATE_TYPE + 1] or DEFAULT_NAMES[state_type],  # as State() names it
        "message": row[_STATE_TYPE + 2],
        "timestamp": iso_text(row[_STATE_TYPE + 3]),  # as State.to_wire() writes it
    }
    item["infrastructure"] = {
        "provider": row[_INFRA],
        "id": row[_INFRA + 1],
        "console_url": row[_INFRA + 2],
    }
    item["job_variables"] = masked(row[_JOB_VARIABLES])
    return item


# FlowRunPublic's fields in order, with the default of those no column fills (deployment_name).
_WIRE_DEFAULTS = {name: field.default for name, field in FlowRunPublic.model_fields.items()}
# The columns shown as they are (all but the state's, the infrastructure's and job_variables).
_AS_IS_NAMES = tuple(name for name in FLOW_RUN_PUBLIC_NAMES if name in _WIRE_DEFAULTS and name != "job_variables")
_as_is = itemgetter(*(FLOW_RUN_PUBLIC_NAMES.index(name) for name in _AS_IS_NAMES))
_STATE_TYPE = FLOW_RUN_PUBLIC_NAMES.index("state_type")  # then state_name, state_message, state_timestamp
_INFRA = FLOW_RUN_PUBLIC_NAMES.index("infra_provider")  # then infra_id, infra_console_url
_JOB_VARIABLES = FLOW_RUN_PUBLIC_NAMES.index("job_variables")
assert FLOW_RUN_PUBLIC_NAMES[_STATE_TYPE + 3] == "state_timestamp"
assert FLOW_RUN_PUBLIC_NAMES[_INFRA + 2] == "infra_console_url"


class StateProposal(BaseModel):
    """A state the runtime (or an admin, with `force`) proposes for a run."""

    state: State
    force: JsonBool = False
    transition_id: str | None = Field(
        default=None, max_length=100, description="Send the same id again to repeat a proposal safely"
    )
    heartbeat: JsonBool = Field(
        default=False,
        description="Record a heartbeat with the change: `pushflow execute` arms crash detection with RUNNING, "
        "then beats every PUSHFLOW_HEARTBEAT_SECONDS",
    )
    with_run: JsonBool = Field(
        default=False,
        description="Answer with the run itself too (`run`, as `GET /flow-runs/{id}` would after the "
        "change): `pushflow execute` starts a run with one request",
    )


class HeartbeatResult(BaseModel):
    """The run's current state, answered to a heartbeat."""

    state: State


class OrchestrationResult(BaseModel):
    """Whether a proposed state was accepted, the run's state after, and why not."""

    status: str  # ACCEPT | REJECT
    state: State
    reason: str | None = None
    run: FlowRunPublic | None = Field(default=None, description="The run after the change, when `with_run` asked")
