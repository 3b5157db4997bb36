"""Secrets a run was given, masked in the log lines it sends: the values of the blocks
its job variables reference, and of job variables whose names say they are secret
(control_plane/masking.py). A flow that prints one stores `•••••• (hidden)` instead."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as select_columns
from sqlmodel import Session

from control_plane.blocks import keyring_for, references
from control_plane.masking import MASK, is_secret_key
from control_plane.models import Deployment, FlowRun, LogCreate, Pool

MIN_LENGTH = 4  # shorter values would mask ordinary words


def run_layers(session: Session, flow_run_id: str) -> list[Mapping[str, Any]] | None:
    """The run's job variables as its pool's defaults, its deployment's and its own; None
    when there is no such run. Read as plain values in one statement, not as a run, a pool
    and a deployment object (three ORM loads were most of a small log batch's request)."""
    row = session.execute(_LAYERS, {"flow_run_id": flow_run_id}).first()
    if row is None:
        return None
    pool_defaults, deployment_variables, run_variables = row
    return [pool_defaults or {}, deployment_variables or {}, run_variables]


def run_secrets(services: Any, layers: list[Mapping[str, Any]]) -> set[str]:
    """Every secret value the run's merged job variables (`run_layers`) hold, resolved
    blocks included."""
    found: set[str] = set()
    for layer in layers:
        _collect(layer, False, found)
    if any(references.has_references(layer) for layer in layers):
        try:
            resolved = references.resolve_layers(services.engine, keyring_for(services.settings), *layers)
        except references.BlockReferenceError:
            resolved = []
        for before, after in zip(layers, resolved, strict=False):
            _collect_resolved(before, after, found)
    return {value for value in found if len(value) >= MIN_LENGTH}


# A run's pool defaults, its deployment's job variables and its own (`run.pool` and
# `run.deployment_id` may name nothing, or nothing that exists: then that layer is empty).
_LAYERS = (
    select_columns(Pool.defaults, Deployment.job_variables, FlowRun.job_variables)  # type: ignore[call-overload]
    .select_from(FlowRun)
    .outerjoin(Pool, Pool.name == FlowRun.pool)
    .outerjoin(Deployment, Deployment.id == FlowRun.deployment_id)
    .where(FlowRun.id == bindparam("flow_run_id"))
)


def redact(logs: Iterable[LogCreate], secrets: set[str]) -> None:
    ordered = sorted(secrets, key=len, reverse=True)  # a longer secret before its prefix
    for log in logs:
        for value in ordered:
            if value in log.message:
                log.message = log.message.replace(value, MASK)


def _collect(value: Any, secret: bool, found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _collect(item, secret or is_secret_key(str(key)), found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, secret, found)
    elif secret and isinstance(value, str):
        found.add(value)


def _collect_resolved(before: Any, after: Any, found: set[str]) -> None:
    """The values that came from block references (everything a block holds is treated as secret)."""
    if isinstance(before, dict) and set(before) == {references.REF}:
        _collect(after, True, found)
    elif isinstance(before, dict) and isinstance(after, dict):
        for key, item in before.items():
            _collect_resolved(item, after.get(key), found)
    elif isinstance(before, list) and isinstance(after, list):
        for b, a in zip(before, after, strict=False):
            _collect_resolved(b, a, found)
