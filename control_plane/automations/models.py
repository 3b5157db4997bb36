"""Automation tables and API models.

- `automation`: a trigger and its actions (JSON, validated by specs.py), paused or not.
- `automation_state`: the trigger's buckets and windows, written by the evaluator.
- `evaluator_cursor`: how far an evaluator has read the event stream; claimed with a
  compare-and-set on `version`, so of several evaluators exactly one handles each batch.
- `automation_firing`: one per firing, with the event that fired it.
- `automation_action_run`: one per action of a firing; claimed (compare-and-set on
  status) before it runs, retried with backoff, then recorded succeeded or failed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pydantic import Field as Check
from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from control_plane.automations.specs import Action, Trigger
from control_plane.columns import TABLE_CONFIG, JsonBool, json_column, utc_column, utcnow


def _id() -> str:
    return str(uuid.uuid4())


class AutomationCreate(BaseModel):
    """A new automation: when `trigger` fires, run `actions` in order."""

    name: str = Check(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    trigger: Trigger
    actions: list[Action] = Check(min_length=1, max_length=20)
    enabled: JsonBool = True


class Automation(SQLModel, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "automation"
    id: str = Field(default_factory=_id, primary_key=True)
    name: str = Field(unique=True, index=True)
    description: str = ""
    trigger: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    actions: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column(nullable=False))
    enabled: bool = True
    created: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    # When it (re)started watching: proactive windows without `after` open here.
    watching_since: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    # Events up to this id came before it was made (or resumed): they do not trigger it.
    since_event: int = Field(default=0, sa_type=BigInteger)


class AutomationPublic(BaseModel):
    """An automation."""

    id: str
    name: str
    description: str
    trigger: dict[str, Any]
    actions: list[dict[str, Any]]
    enabled: bool
    created: datetime


class AutomationState(SQLModel, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "automation_state"
    automation_id: str = Field(primary_key=True)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))


class EvaluatorCursor(SQLModel, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "evaluator_cursor"
    name: str = Field(primary_key=True)
    position: int = Field(default=0, sa_type=BigInteger)
    version: int = 0


class AutomationFiring(SQLModel, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "automation_firing"
    __table_args__ = (Index("ix_automation_firing_automation", "automation_id", "fired"),)
    id: str = Field(default_factory=_id, primary_key=True)
    automation_id: str
    fired: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    reason: str = ""
    event: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))


class AutomationActionRun(SQLModel, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "automation_action_run"
    __table_args__ = (Index("ix_automation_action_run_due", "status", "next_attempt"),)
    id: str = Field(default_factory=_id, primary_key=True)
    firing_id: str = Field(index=True)
    automation_id: str
    position: int
    action: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    status: str = "pending"  # pending -> running -> succeeded | failed (pending again to retry)
    attempts: int = 0
    next_attempt: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    claimed_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    result: str | None = None
    error: str | None = None
    updated: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class ActionRunPublic(BaseModel):
    """One action of a firing and how it went."""

    type: str
    status: str
    attempts: int
    result: str | None = None
    error: str | None = None


class FiringPublic(BaseModel):
    """A firing of an automation: why, the event that fired it, and its actions."""

    id: str
    fired: datetime
    reason: str
    event: dict[str, Any] | None
    actions: list[ActionRunPublic]
