"""/api/blocks: typed configuration and secrets; secret fields are stored encrypted and
never answered in clear. /api/block-types: the types and their JSON schemas."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from pydantic import Field as Check
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from control_plane.blocks import (
    BLOCK_TYPES,
    Block,
    BlockCreate,
    BlockData,
    BlockPublic,
    crypto,
    keyring_for,
    open_fields,
    seal,
)
from control_plane.deps import AdminDep, PrincipalDep, ServicesDep, SessionDep
from control_plane.errors import ConflictError, ErrorBody, ForbiddenError, InvalidInputError, NotFoundError
from control_plane.masking import MASK, refuse_mask

router = APIRouter(tags=["blocks"])


@router.get("/block-types")
def list_block_types(_: AdminDep) -> dict[str, Any]:
    """Every block type and the JSON schema of its fields (`secret: true` ones are encrypted)."""
    return BLOCK_TYPES


@router.post(
    "/blocks",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": ErrorBody, "description": "A block of this type and name exists"}},
)
def create_block(body: BlockCreate, session: SessionDep, services: ServicesDep, _: AdminDep) -> BlockPublic:
    """Store a block; its secret fields are encrypted and never shown again."""
    _check(body.type, body.data)
    session.add(row := seal(keyring_for(services.settings), body))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ConflictError(f"a {body.type} block named {body.name!r} exists; delete it first") from None
    return BlockPublic.of(row)


@router.put(
    "/blocks/{type}/{name}",
    responses={404: {"model": ErrorBody, "description": "No such block"}},
)
def replace_block(
    type: str, name: str, body: BlockData, session: SessionDep, services: ServicesDep, _: AdminDep
) -> BlockPublic:
    """Replace a block's fields. A secret field sent as the mask (`•••••• (hidden)`, as
    GET answers it) keeps its stored value, so a GET, an edit and a PUT change only what
    was edited; a new secret value replaces the old one."""
    row = _get(session, type, name)
    keyring = keyring_for(services.settings)
    stored = open_fields(keyring, row)
    data = {k: stored[k] if v == MASK and k in stored else v for k, v in body.data.items()}
    refuse_mask(data, "data")
    _check(type, data)
    new = seal(keyring, BlockCreate(type=type, name=name, data=data))
    row.data, row.sealed = new.data, new.sealed
    session.add(row)
    session.commit()
    return BlockPublic.of(row)


class BlockKeyRotation(BaseModel):
    """What `POST /api/blocks/rotate-key` did."""

    current_key: str = Check(description="The key every block is sealed with now: `kms`, or a local key's id")
    rotated: int = Check(description="Blocks with secrets, each re-encrypted")
    by_previous_key: dict[str, int] = Check(description="How many of them each key had sealed (`legacy`: no key id)")


@router.post(
    "/blocks/rotate-key",
    responses={409: {"model": ErrorBody, "description": "Some blocks open with no key of the keyring"}},
)
def rotate_block_key(session: SessionDep, services: ServicesDep, _: AdminDep) -> BlockKeyRotation:
    """Re-encrypt every block's secret fields with the current key (PUSHFLOW_BLOCK_KMS_KEY_ID,
    else PUSHFLOW_BLOCK_KEY), reading each with whichever key of the keyring sealed it.
    All or nothing: if any block opens with no key, nothing changes (409 naming them)."""
    keyring = keyring_for(services.settings)
    rows = list(session.exec(select(Block).where(col(Block.sealed).is_not(None)).order_by(col(Block.id))))
    opened, unreadable = [], []
    for row in rows:
        ref = f"{row.type}/{row.name}"
        try:
            opened.append((row, keyring.open(ref, row.sealed or "")))
        except crypto.UnreadableError:
            unreadable.append(ref)
    if unreadable:
        raise ConflictError(
            f"{len(unreadable)} block(s) open with no key of the keyring ({', '.join(unreadable[:5])}): add the key "
            "they were sealed with to PUSHFLOW_BLOCK_PREVIOUS_KEYS and try again; nothing was changed"
        )
    counts: dict[str, int] = {}
    for row, values in opened:
        previous = crypto.sealed_with(row.sealed or "") or "legacy"
        counts[previous] = counts.get(previous, 0) + 1
        row.sealed = keyring.seal(f"{row.type}/{row.name}", values)
        session.add(row)
    session.commit()
    return BlockKeyRotation(current_key=keyring.current_id, rotated=len(opened), by_previous_key=counts)


@router.get("/blocks")
def list_blocks(session: SessionDep, _: AdminDep) -> list[BlockPublic]:
    """Every block, secret fields masked."""
    rows = session.exec(select(Block).order_by(col(Block.type), col(Block.name)))
    return [BlockPublic.of(r) for r in rows]


@router.get("/blocks/{type}/{name}", responses={404: {"model": ErrorBody, "description": "No such block"}})
def read_block(type: str, name: str, session: SessionDep, _: AdminDep) -> BlockPublic:
    """One block, secret fields masked."""
    return BlockPublic.of(_get(session, type, name))


@router.delete("/blocks/{type}/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_block(type: str, name: str, session: SessionDep, _: AdminDep) -> Response:
    """Delete a block (its encrypted secrets with it)."""
    session.delete(_get(session, type, name))
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class BlockValue(BaseModel):
    """A block's fields in clear: only for the run that loads it."""

    type: str
    name: str
    data: dict[str, Any]


@router.get(
    "/flow-runs/{flow_run_id}/blocks/{type}/{name}",
    responses={404: {"model": ErrorBody, "description": "No such block"}},
)
def load_block(
    flow_run_id: str, type: str, name: str, session: SessionDep, services: ServicesDep, principal: PrincipalDep
) -> BlockValue:
    """A block's fields in clear, for `Block.load` inside a run: only that run's own token
    may ask (an API key, whatever its scope, gets 403; keys never see secrets in clear)."""
    if principal.run_id != flow_run_id:
        raise ForbiddenError("only a run's own token may load a block's secrets (Block.load inside the run)")
    row = _get(session, type, name)
    return BlockValue(type=row.type, name=row.name, data=open_fields(keyring_for(services.settings), row))


def _check(block_type: str, data: dict[str, Any]) -> None:
    schema = BLOCK_TYPES.get(block_type)
    if schema is None:
        raise InvalidInputError(f"unknown block type {block_type!r}; choose one of: {', '.join(sorted(BLOCK_TYPES))}")
    from jsonschema import Draft202012Validator

    refuse_mask(data, "data")
    problems = [e.message for e in Draft202012Validator(schema).iter_errors(data)]
    if problems:
        raise InvalidInputError(f"invalid {block_type} block: " + "; ".join(problems), problems)


def _get(session: SessionDep, type: str, name: str) -> Block:
    row = session.exec(select(Block).where(Block.type == type, Block.name == name)).first()
    if row is None:
        raise NotFoundError(f"no {type} block named {name!r}; GET /api/blocks lists them")
    return row
