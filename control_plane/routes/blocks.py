"""/api/blocks: typed configuration and secrets; secret fields are stored encrypted and
never answered in clear. /api/block-types: the types and their JSON schemas."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from control_plane.blocks import BLOCK_TYPES, Block, BlockCreate, BlockData, BlockPublic, crypto, key_for, seal
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
    session.add(row := seal(key_for(services.settings), body))
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
    key = key_for(services.settings)
    stored = crypto.decrypt(key, f"{type}/{name}", row.sealed) if row.sealed else {}
    data = {k: stored[k] if v == MASK and k in stored else v for k, v in body.data.items()}
    refuse_mask(data, "data")
    _check(type, data)
    new = seal(key, BlockCreate(type=type, name=name, data=data))
    row.data, row.sealed = new.data, new.sealed
    session.add(row)
    session.commit()
    return BlockPublic.of(row)


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
    fields = {k: v for k, v in row.data.items() if k != "$sealed"}
    if row.sealed:
        fields.update(crypto.decrypt(key_for(services.settings), f"{type}/{name}", row.sealed))
    return BlockValue(type=row.type, name=row.name, data=fields)


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
