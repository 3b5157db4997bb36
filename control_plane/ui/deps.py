"""What UI routes depend on: the signed-in session (its key looked up again on every
request), for state-changing requests a same-origin form carrying the session's CSRF
token, and the scope an action needs."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import Depends, Request

from control_plane import keys
from control_plane.deps import ServicesDep
from control_plane.scopes import Scope, required_scope
from control_plane.ui.session import BOOTSTRAP, COOKIE_NAME, UiSession, csrf_matches, read_cookie

# Why a session ended, by code: the sign-in page shows the sentence (never text from the URL).
ENDED = {
    "revoked": "Your session ended: its API key was revoked. Sign in with another key.",
    "expired": "Your session ended: its API key expired. Sign in with another key.",
}


class SignInRequired(Exception):
    """No valid session: the handler sends a page request to the sign-in form."""

    def __init__(self, next_url: str, ended: str | None = None) -> None:
        super().__init__(next_url)
        self.next_url = next_url
        self.ended = ended


class CsrfRejected(Exception):
    """A state-changing request without this session's token, or from another origin."""


class ScopeRefused(Exception):
    """The session's key may not do this: the handler answers 403 with a page saying why."""

    def __init__(self, session: UiSession, needed: Scope) -> None:
        super().__init__(needed.value)
        self.session = session
        self.needed = needed


def current_session(request: Request, services: ServicesDep) -> UiSession:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    session = read_cookie(services.api_key, request.cookies.get(COOKIE_NAME))
    if session is None:
        raise SignInRequired(target)
    if session.key_id == BOOTSTRAP:
        return session
    key = keys.find_by_id(services.engine, session.key_id)
    if key is None or key.revoked is not None:
        raise SignInRequired(target, ended="revoked")
    if keys.why_unusable(key):
        raise SignInRequired(target, ended="expired")
    keys.touch(services.engine, key)
    return dataclasses.replace(session, scope=Scope(key.scope), key_name=key.name)


UiSessionDep = Annotated[UiSession, Depends(current_session)]


def sign_in_url(next_url: str, ended: str | None = None) -> str:
    return f"/ui/login?next={quote(next_url, safe='')}" + (f"&ended={ended}" if ended else "")


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
    # A genuine UI action from this session: the audit log records it with its key, as it
    # does an API request (control_plane/audit.py reads request.state.principal).
    request.state.principal = session.principal
    return form


FormDep = Annotated[dict[str, str], Depends(checked_form)]


def allowed(method: str, api_path: str) -> Any:
    """A dependency: the session, if its key's scope covers the API route this UI action
    stands for (the same rule as the API, control_plane/scopes.py), else ScopeRefused."""
    needed = required_scope(method, api_path)

    def check(session: UiSessionDep, _: FormDep) -> UiSession:
        if not session.can(needed):
            raise ScopeRefused(session, needed)
        return session

    check.__name__ = f"allowed_{needed.value}"
    return Depends(check)
