"""Deployments: a flow, its code, pool, parameters and schedules, declared whole."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import StringConstraints, field_validator
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from control_plane.columns import TABLE_CONFIG, Count, JsonBool, Seconds, json_column, new_id, utc_column, utcnow
from control_plane.masking import masked
from control_plane.schedules import ScheduleCreate, SchedulePublic
from control_plane.sources import Source

# PostgreSQL text cannot hold NUL: names refuse it on every backend alike.
NoNulStr = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


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
    model_config = TABLE_CONFIG
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
