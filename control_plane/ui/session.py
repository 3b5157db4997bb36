"""The UI's sign-in session: a stateless, HMAC-signed cookie naming the key that signed
in, and the CSRF token bound to it.

The control plane keeps no session store (any process, a fresh Lambda invocation too, must
accept the cookie), so the cookie carries its own expiry, a random nonce and the id of the
API key it stands for (`admin` for the bootstrap key), signed with a key derived from the
admin API key: changing that key signs everyone out. The cookie never holds a key itself;
each request looks the scoped key up again (ui/deps.py), so a revoked or expired key ends
its sessions at their next request. The CSRF token is an HMAC of the nonce, valid for one
session only and needing no storage either.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets
import time
from datetime import datetime, timezone

from control_plane.auth import Principal
from control_plane.scopes import Scope

COOKIE_NAME = "pushflow_session"
LIFETIME_SECONDS = 12 * 3600
BOOTSTRAP = "admin"  # the key id a bootstrap-admin session carries


@dataclasses.dataclass(frozen=True)
class UiSession:
    """A signed-in browser: the cookie's contents, and (filled in per request from the
    key's row) what that key may do."""

    nonce: str
    expires: int
    key_id: str = BOOTSTRAP
    scope: Scope = Scope.ADMIN
    key_name: str | None = None  # None: the bootstrap admin key

    @property
    def principal(self) -> Principal:
        """The same principal an API request with this key gets (for route calls and the audit log)."""
        return Principal(admin=True, scope=self.scope, key_name=self.key_name)

    def can(self, scope: Scope | str) -> bool:
        return self.scope.covers(Scope(scope))

    @property
    def ends(self) -> datetime:
        return datetime.fromtimestamp(self.expires, timezone.utc)

    @property
    def who(self) -> str:
        return self.key_name or "admin"


def _signing_key(api_key: str) -> bytes:
    return hmac.new(api_key.encode(), b"pushflow-ui-session-v2", hashlib.sha256).digest()


def _mac(api_key: str, message: str) -> str:
    digest = hmac.new(_signing_key(api_key), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue_cookie(
    api_key: str, *, key_id: str = BOOTSTRAP, key_expires: datetime | None = None, now: float | None = None
) -> tuple[str, int]:
    """A new session cookie value, `<expires>.<nonce>.<key id>.<signature>`, and its
    lifetime in seconds: 12 hours, or less when the key expires sooner."""
    now = now or time.time()
    expires = int(now + LIFETIME_SECONDS)
    if key_expires is not None:
        expires = min(expires, int(key_expires.timestamp()))
    payload = f"{expires}.{secrets.token_urlsafe(16)}.{key_id}"
    return f"{payload}.{_mac(api_key, payload)}", max(expires - int(now), 0)


def read_cookie(api_key: str, value: str | None, *, now: float | None = None) -> UiSession | None:
    """The session in a cookie value, or None when it is missing, forged or expired."""
    if not value or value.count(".") != 3:
        return None
    expires, nonce, key_id, signature = value.split(".")
    if not hmac.compare_digest(signature, _mac(api_key, f"{expires}.{nonce}.{key_id}")):
        return None
    if not expires.isdigit() or int(expires) <= (now or time.time()):
        return None
    return UiSession(nonce=nonce, expires=int(expires), key_id=key_id)


def csrf_token(api_key: str, session: UiSession) -> str:
    return _mac(api_key, f"csrf:{session.nonce}")


def csrf_matches(api_key: str, session: UiSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(str(given), csrf_token(api_key, session))
