from __future__ import annotations

import functools

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness; the only route that needs no key. Answered on the event loop, never
    queued behind the request threads (control_plane/serve.py caps them) when every one
    of them waits on a slow provider or database."""
    return {"status": "ok", "version": _version()}


@functools.cache
def _version() -> str:
    from importlib.metadata import version  # scans the installed distributions: once

    return version("pushflow")
