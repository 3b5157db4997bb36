from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness; the only route that needs no key."""
    from importlib.metadata import version

    return {"status": "ok", "version": version("pushflow")}
