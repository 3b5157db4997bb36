"""Bundles: `pushflow deploy` asks whether the store has one (HEAD) and uploads it if not:
straight into the object store through a signed PUT and then a commit the server checks
(POST .../upload, POST .../commit), or through the API (PUT) where the store cannot sign.
A run downloads its own with its run token, through a signed URL where the store can
sign one."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from control_plane.bundles import BundleHashError, BundleTooLargeError, BundleUploadMissingError
from control_plane.deps import AdminDep, PrincipalDep, ServicesDep, SessionDep
from control_plane.errors import InvalidInputError, NotFoundError, PayloadTooLargeError
from control_plane.models import FlowRun

router = APIRouter(tags=["bundles"])

Sha256Path = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="Hex sha256 of the archive")]
# How long a signed download URL works: enough to start downloading, no more.
URL_SECONDS = 300


class BundlePublic(BaseModel):
    """A stored code bundle: its content hash and size."""

    sha256: str
    size: int


class BundleUploadRequest(BaseModel):
    """What is about to be uploaded."""

    size: int = Field(ge=1, description="The archive's size in bytes")


class BundleUploadTarget(BaseModel):
    """Where to put the archive: `store` -- PUT the bytes to `url` with `headers` before
    `expires_in` seconds pass, then POST .../commit; `api` -- PUT them to /api/bundles/{sha256}."""

    via: Literal["store", "api"]
    url: str | None = Field(default=None, description="The signed PUT URL (via=store)")
    headers: dict[str, str] = Field(default_factory=dict, description="Headers the PUT must carry")
    expires_in: int | None = Field(default=None, description="Seconds the URL works (via=store)")


@router.post("/bundles/{sha256}/upload", responses={413: {"description": "Over PUSHFLOW_BUNDLE_MAX_BYTES"}})
def bundle_upload_target(
    sha256: Sha256Path, body: BundleUploadRequest, services: ServicesDep, _: AdminDep
) -> BundleUploadTarget:
    """Where `pushflow deploy` uploads a bundle the store does not have."""
    limit = services.settings.bundle_max_bytes
    if body.size > limit:
        raise PayloadTooLargeError(
            f"the bundle is {body.size} bytes, over {limit}; add large files to .pushflowignore or raise "
            "PUSHFLOW_BUNDLE_MAX_BYTES"
        )
    target = services.bundles.upload_target(sha256, URL_SECONDS)
    if target is None:
        return BundleUploadTarget(via="api")
    url, headers = target
    return BundleUploadTarget(via="store", url=url, headers=headers, expires_in=URL_SECONDS)


@router.post(
    "/bundles/{sha256}/commit",
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "Nothing was uploaded"}, 413: {"description": "Over PUSHFLOW_BUNDLE_MAX_BYTES"}},
)
def commit_bundle(sha256: Sha256Path, services: ServicesDep, _: AdminDep) -> BundlePublic:
    """Check an archive uploaded through a signed URL (size, sha256) and store it."""
    try:
        size = services.bundles.commit(sha256, services.settings.bundle_max_bytes)
    except BundleUploadMissingError as exc:
        raise NotFoundError(str(exc)) from None
    except BundleTooLargeError as exc:
        raise PayloadTooLargeError(str(exc)) from None
    except BundleHashError as exc:
        raise InvalidInputError(str(exc)) from None
    return BundlePublic(sha256=sha256, size=size)


@router.head("/bundles/{sha256}", responses={404: {"description": "Not in the store: upload it"}})
def bundle_exists(sha256: Sha256Path, services: ServicesDep, _: AdminDep) -> Response:
    """200 when the store has this bundle (a deploy then uploads nothing), else 404."""
    found = services.bundles.exists(sha256)
    return Response(status_code=status.HTTP_200_OK if found else status.HTTP_404_NOT_FOUND)


@router.put("/bundles/{sha256}", status_code=status.HTTP_201_CREATED)
async def upload_bundle(sha256: Sha256Path, request: Request, services: ServicesDep, _: AdminDep) -> BundlePublic:
    """Store a project archive (the raw bytes of a tar.gz) under its sha256. Where the
    store signs uploads, bundles go there directly, and this route keeps the API's
    ordinary body limit (PUSHFLOW_MAX_REQUEST_BYTES; on Lambda, 6 MB is all there is)."""
    limit = services.settings.bundle_max_bytes
    advice = "add large files to .pushflowignore or raise PUSHFLOW_BUNDLE_MAX_BYTES"
    if services.bundles.upload_target(sha256, URL_SECONDS) is not None:
        limit = min(limit, services.settings.max_request_bytes)
        advice = "upload it straight to the bundle store (POST /api/bundles/{sha256}/upload; pushflow deploy does)"
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise PayloadTooLargeError(f"the bundle is over {limit} bytes; {advice}")
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
