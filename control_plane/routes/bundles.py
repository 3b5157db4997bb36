"""Bundles: `pushflow deploy` asks whether the store has one (HEAD) and uploads it if not
(PUT); a run downloads its own with its run token, through a signed URL where the store
can sign one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from control_plane.bundles import BundleHashError
from control_plane.deps import AdminDep, PrincipalDep, ServicesDep, SessionDep
from control_plane.errors import InvalidInputError, NotFoundError
from control_plane.models import FlowRun

router = APIRouter(tags=["bundles"])

Sha256Path = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="Hex sha256 of the archive")]
# How long a signed download URL works: enough to start downloading, no more.
URL_SECONDS = 300


class BundlePublic(BaseModel):
    """A stored code bundle: its content hash and size."""

    sha256: str
    size: int


@router.head("/bundles/{sha256}", responses={404: {"description": "Not in the store: upload it"}})
def bundle_exists(sha256: Sha256Path, services: ServicesDep, _: AdminDep) -> Response:
    """200 when the store has this bundle (a deploy then uploads nothing), else 404."""
    found = services.bundles.exists(sha256)
    return Response(status_code=status.HTTP_200_OK if found else status.HTTP_404_NOT_FOUND)


@router.put("/bundles/{sha256}", status_code=status.HTTP_201_CREATED)
async def upload_bundle(sha256: Sha256Path, request: Request, services: ServicesDep, _: AdminDep) -> BundlePublic:
    """Store a project archive (the raw bytes of a tar.gz) under its sha256."""
    limit = services.settings.bundle_max_bytes
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise InvalidInputError(
                f"the bundle is over {limit} bytes; add large files to .pushflowignore or raise "
                "PUSHFLOW_BUNDLE_MAX_BYTES"
            )
    try:
        services.bundles.put(sha256, bytes(data))
    except BundleHashError as exc:
        raise InvalidInputError(str(exc)) from None
    return BundlePublic(sha256=sha256, size=len(data))


@router.get(
    "/flow-runs/{run_id}/bundle",
    responses={200: {"content": {"application/gzip": {}}}, 307: {"description": "A signed URL to download from"}},
    response_model=None,
)
def download_run_bundle(
    run_id: str, session: SessionDep, services: ServicesDep, principal: PrincipalDep
) -> Response | RedirectResponse:
    """The run's code bundle, for its runtime (run token) or an admin."""
    principal.require_run(run_id)
    run = session.get(FlowRun, run_id)
    if run is None:
        raise NotFoundError(f"flow run {run_id!r} not found")
    source = run.source or {}
    if source.get("type") != "bundle":
        raise NotFoundError(f"flow run {run_id!r} has no bundle (its source is {source.get('type', 'none')!r})")
    sha256 = str(source["sha256"])
    url = services.bundles.download_url(sha256, URL_SECONDS)
    if url is not None:
        return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    data = services.bundles.get(sha256)
    if data is None:
        raise NotFoundError(f"bundle {sha256} is not in the bundle store; deploy again to upload it")
    return Response(data, media_type="application/gzip")
