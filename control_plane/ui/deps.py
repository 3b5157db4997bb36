"""What UI routes depend on: the signed-in session, and for state-changing requests a
same-origin form carrying the session's CSRF token."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import Depends, Request

from control_plane.deps import ServicesDep
from control_plane.ui.session import COOKIE_NAME, UiSession, csrf_matches, read_cookie


class SignInRequired(Exception):
    """No valid session: the handler sends a page request to the sign-in form."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class CsrfRejected(Exception):
    """A state-changing request without this session's token, or from another origin."""


def current_session(request: Request, services: ServicesDep) -> UiSession:
    session = read_cookie(services.api_key, request.cookies.get(COOKIE_NAME))
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return session


UiSessionDep = Annotated[UiSession, Depends(current_session)]


def sign_in_url(next_url: str) -> str:
    return f"/ui/login?next={quote(next_url, safe='')}"


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site. SameSite=Strict
    already keeps the cookie off cross-site requests; this also covers sign-in itself."""
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host")


async def read_form(request: Request) -> dict[str, str]:
    """The url-encoded form body (the UI posts no files)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


async def checked_form(request: Request, services: ServicesDep, session: UiSessionDep) -> dict[str, str]:
    form = await read_form(request)
    given = form.pop("csrf", None) or request.headers.get("x-csrf-token")
    if not same_origin(request) or not csrf_matches(services.api_key, session, given):
        raise CsrfRejected()
    return form


FormDep = Annotated[dict[str, str], Depends(checked_form)]
