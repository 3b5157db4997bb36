"""`{"$block": "type/name"}` in job variables and automation actions: replaced by the
block's value only when a run is submitted or an action runs (and, to check them, when a
deployment or run is created), never stored resolved. A block with one field stands for
that field's value; `type/name.field` picks one field; otherwise the reference stands for
the block's fields as an object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from control_plane.blocks import Block, crypto, open_fields
from control_plane.db import read_only

REF = "$block"


class BlockReferenceError(Exception):
    pass


def has_references(value: Any) -> bool:
    if isinstance(value, dict):
        return REF in value or any(has_references(v) for v in value.values())
    if isinstance(value, list):
        return any(has_references(v) for v in value)
    return False


def resolve_layers(engine: Engine, keyring: crypto.Keyring, *layers: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """`layers` with every block reference replaced (a layer without one is returned as is)."""
    if not any(has_references(layer) for layer in layers):
        return list(layers)
    # Its own read (deferred on SQLite): the caller's request may hold the write lock.
    with Session(read_only(engine)) as session:
        return [_resolve(session, keyring, dict(layer)) for layer in layers]


def _resolve(session: Session, keyring: crypto.Keyring, value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {REF} and isinstance(value[REF], str):
            return _value_of(session, keyring, value[REF])
        return {k: _resolve(session, keyring, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(session, keyring, v) for v in value]
    return value


def _value_of(session: Session, keyring: crypto.Keyring, ref: str) -> Any:
    block_ref, _, field = ref.partition(".")
    block_type, _, name = block_ref.partition("/")
    row = session.exec(select(Block).where(Block.type == block_type, Block.name == name)).first()
    if row is None:
        raise BlockReferenceError(
            f"block {block_ref!r} does not exist: create it (pushflow block create {block_ref} …) or fix the reference"
        )
    try:
        fields = open_fields(keyring, row)
    except crypto.UnreadableError as exc:
        raise BlockReferenceError(str(exc)) from exc
    if field:
        if field not in fields:
            raise BlockReferenceError(
                f"block {block_ref!r} has no field {field!r}; it has: {', '.join(sorted(fields))}"
            )
        return fields[field]
    return next(iter(fields.values())) if len(fields) == 1 else fields
