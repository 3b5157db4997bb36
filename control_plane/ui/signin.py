"""Sign-in with any API key (exchanged for the session cookie, which carries that key's
scope and expiry), and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from control_plane import keys
from control_plane.audit import NO_KEY, UNKNOWN_KEY, record_refusal
from control_plane.auth import Principal, key_matches
from control_plane.deps import ServicesDep
from control_plane.scopes import Scope
from control_plane.services import Services
from control_plane.ui.deps import ENDED, FormDep, read_form, same_origin
from control_plane.ui.render import render
from control_plane.ui.session import BOOTSTRAP, COOKIE_NAME, issue_cookie

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
def sign_in_form(request: Request, next: str | None = None, ended: str | None = None) -> Response:
    return render(request, "login.html", next=_safe_next(next), error=ENDED.get(ended or ""))


class _Refused(Exception):
    def __init__(self, message: str, key_name: str | None = None) -> None:
        super().__init__(message)
        self.message, self.key_name = message, key_name


def _who(services: Services, given: str) -> tuple[str, Principal, keys.ApiKey | None]:
    """The key id a session will name, the principal, and the scoped key's row (None for
    the bootstrap key); _Refused saying why when `given` is no usable key."""
    if given and key_matches(given, services.api_key):
        return BOOTSTRAP, Principal(admin=True), None
    key = keys.find(services.engine, given) if given else None
    if key is None:
        raise _Refused(
            "That API key is not valid: use a key from `pushflow key create`, or the server's admin key "
            "(PUSHFLOW_API_KEY, or ~/.pushflow/api_key)."
        )
    problem = keys.why_unusable(key)
    if problem:
        raise _Refused(problem[0].upper() + problem[1:] + ".", key_name=key.name)
    return key.id, Principal(admin=True, scope=Scope(key.scope), key_name=key.name), key


@router.post("/ui/login")
async def sign_in(
    request: Request, services: ServicesDep, form: Annotated[dict[str, str], Depends(read_form)]
) -> Response:
    target = _safe_next(form.get("next"))
    if not same_origin(request):
        return render(request, "login.html", next=target, error="Sign-in must come from this site.", status_code=403)
    try:
        key_id, principal, key = _who(services, form.get("api_key", "").strip())
    except _Refused as exc:
        given = bool(form.get("api_key", "").strip())
        await record_refusal(request.scope, exc.key_name or (UNKNOWN_KEY if given else NO_KEY))
        return render(request, "login.html", next=target, error=exc.message, status_code=401)
    if key is not None:
        keys.touch(services.engine, key)
    cookie, lifetime = issue_cookie(services.api_key, key_id=key_id, key_expires=key.expires if key else None)
    request.state.principal = principal  # the audit log records each sign-in
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=lifetime,
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
