"""Sign-in with the admin API key (exchanged for the session cookie), and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from control_plane.auth import key_matches
from control_plane.deps import ServicesDep
from control_plane.ui.deps import FormDep, read_form, same_origin
from control_plane.ui.render import render
from control_plane.ui.session import COOKIE_NAME, LIFETIME_SECONDS, issue_cookie

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only paths inside the UI: never an open redirect to another site.
    if target and target.startswith("/ui") and not target.startswith("//"):
        return target
    return "/ui"


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/ui", status_code=307)


@router.get("/ui/login")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next=_safe_next(next), error=None)


@router.post("/ui/login")
async def sign_in(
    request: Request, services: ServicesDep, form: Annotated[dict[str, str], Depends(read_form)]
) -> Response:
    target = _safe_next(form.get("next"))
    if not same_origin(request):
        return render(request, "login.html", next=target, error="Sign-in must come from this site.", status_code=403)
    if not key_matches(form.get("api_key", "").strip(), services.api_key):
        error = "That API key is not valid: use the server's admin key (PUSHFLOW_API_KEY, or ~/.pushflow/api_key)."
        return render(request, "login.html", next=target, error=error, status_code=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        issue_cookie(services.api_key),
        max_age=LIFETIME_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_is_https(request),
    )
    return response


@router.post("/ui/logout")
def sign_out(_: FormDep) -> RedirectResponse:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
