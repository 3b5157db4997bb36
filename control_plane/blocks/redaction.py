"""Secrets a run was given, masked in the log lines it sends: the values of the blocks
its job variables reference, and of job variables whose names say they are secret
(control_plane/masking.py). A flow that prints one stores `•••••• (hidden)` instead."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session, select

from control_plane.blocks import keyring_for, references
from control_plane.masking import MASK, is_secret_key
from control_plane.models import Deployment, FlowRun, LogCreate, Pool

MIN_LENGTH = 4  # shorter values would mask ordinary words


def run_secrets(session: Session, services: Any, run: FlowRun) -> set[str]:
    """Every secret value the run's merged job variables hold (resolved blocks included)."""
    pool = session.exec(select(Pool).where(Pool.name == run.pool)).first() if run.pool else None
    deployment = session.get(Deployment, run.deployment_id) if run.deployment_id else None
    layers: list[Mapping[str, Any]] = [pool.defaults if pool else {}, deployment.job_variables if deployment else {}]
    layers.append(run.job_variables)
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
