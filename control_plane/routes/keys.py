"""/api/keys: create (the key shown once), list and revoke scoped API keys (admin scope)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from control_plane.columns import utcnow
from control_plane.deps import AdminDep, SessionDep
from control_plane.errors import ConflictError, ErrorBody, NotFoundError
from control_plane.keys import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, mint

router = APIRouter(prefix="/keys", tags=["keys"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": ErrorBody, "description": "A key with this name exists"}},
)
def create_key(body: ApiKeyCreate, session: SessionDep, _: AdminDep) -> ApiKeyCreated:
    """Create a key with a scope; the answer carries the key, shown this once."""
    row, secret = mint(body)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ConflictError(f"a key named {body.name!r} exists (perhaps revoked); choose another name") from None
    return ApiKeyCreated(**ApiKeyPublic.of(row).model_dump(), key=secret)


@router.get("")
def list_keys(session: SessionDep, _: AdminDep) -> list[ApiKeyPublic]:
    """Every key, revoked and expired ones included, newest first; never the keys themselves."""
    rows = session.exec(select(ApiKey).order_by(col(ApiKey.created).desc()))
    return [ApiKeyPublic.of(r) for r in rows]


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"model": ErrorBody, "description": "No key with this name"}},
)
def revoke_key(name: str, session: SessionDep, _: AdminDep) -> Response:
    """Revoke a key: from now on it gets 401. Revoking twice is harmless."""
    row = session.exec(select(ApiKey).where(ApiKey.name == name)).first()
    if row is None:
        raise NotFoundError(f"no API key named {name!r}; `pushflow key ls` lists them")
    if row.revoked is None:
        row.revoked = utcnow()
        session.add(row)
        session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
