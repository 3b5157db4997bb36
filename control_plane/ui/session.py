"""The UI's sign-in session: a stateless, HMAC-signed cookie, and the CSRF token bound to it.

The control plane keeps no session store (any process, a fresh Lambda invocation too, must
accept the cookie), so the cookie carries its own expiry and a random nonce, signed with a
key derived from the admin API key: changing the key signs everyone out. The CSRF token is
an HMAC of the nonce, so it is valid for one session only and needs no storage either.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets
import time

COOKIE_NAME = "pushflow_session"
LIFETIME_SECONDS = 12 * 3600


@dataclasses.dataclass(frozen=True)
class UiSession:
    nonce: str
    expires: int


def _signing_key(api_key: str) -> bytes:
    return hmac.new(api_key.encode(), b"pushflow-ui-session-v1", hashlib.sha256).digest()


def _mac(api_key: str, message: str) -> str:
    digest = hmac.new(_signing_key(api_key), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue_cookie(api_key: str, *, now: float | None = None) -> str:
    """A new session cookie value: `<expires>.<nonce>.<signature>`."""
    expires = int((now or time.time()) + LIFETIME_SECONDS)
    payload = f"{expires}.{secrets.token_urlsafe(16)}"
    return f"{payload}.{_mac(api_key, payload)}"


def read_cookie(api_key: str, value: str | None, *, now: float | None = None) -> UiSession | None:
    """The session in a cookie value, or None when it is missing, forged or expired."""
    if not value or value.count(".") != 2:
        return None
    expires, nonce, signature = value.split(".")
    if not hmac.compare_digest(signature, _mac(api_key, f"{expires}.{nonce}")):
        return None
    if not expires.isdigit() or int(expires) <= (now or time.time()):
        return None
    return UiSession(nonce=nonce, expires=int(expires))


def csrf_token(api_key: str, session: UiSession) -> str:
    return _mac(api_key, f"csrf:{session.nonce}")


def csrf_matches(api_key: str, session: UiSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(str(given), csrf_token(api_key, session))
