"""Bearer auth: the admin key, and run-scoped tokens that can only read and report on
their own run.

A run token is `pfr_<run id>_<secret>`; the store keeps only the secret's SHA-256.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets
from pathlib import Path

from control_plane.errors import ConfigurationError, ForbiddenError, UnauthorizedError
from control_plane.scopes import Scope

RUN_TOKEN_PREFIX = "pfr_"


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who is calling: a key (`admin=True`: not a run token; its `scope` says what it may
    do, checked per route by deps) or a run token (`run_id`)."""

    admin: bool
    run_id: str | None = None
    scope: Scope = Scope.ADMIN
    key_name: str | None = None  # None: the bootstrap admin key, or a run token

    def require_admin(self) -> None:
        if not self.admin:
            raise ForbiddenError("a run token may only read and report on its own run")

    def require_run(self, run_id: str) -> None:
        if not self.admin and self.run_id != run_id:
            raise ForbiddenError("a run token may only read and report on its own run")


def read_key_file(path: Path) -> str:
    try:
        key = path.read_text().strip()
    except OSError as exc:
        raise ConfigurationError(f"PUSHFLOW_API_KEY_FILE={path} cannot be read ({exc.strerror})") from exc
    if not key:
        raise ConfigurationError(f"PUSHFLOW_API_KEY_FILE={path} is empty; put the admin key in it")
    return key


def mint_run_token(run_id: str) -> tuple[str, str]:
    """A new token for `run_id`, and the hash to store."""
    secret = secrets.token_urlsafe(32)
    return f"{RUN_TOKEN_PREFIX}{run_id}_{secret}", _hash(secret)


def derive_run_token(server_secret: str, run_id: str, attempt: int) -> tuple[str, str]:
    """The token of submission `attempt` of `run_id`, and the hash to store. Derived, not
    random: a dispatcher that takes over a half-done submission after a crash hands the
    provider the same token the first one did; each new attempt gets a fresh one."""
    digest = hmac.new(server_secret.encode(), f"{run_id}:{attempt}".encode(), hashlib.sha256).digest()
    secret = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return f"{RUN_TOKEN_PREFIX}{run_id}_{secret}", _hash(secret)


def parse_run_token(token: str) -> tuple[str, str] | None:
    """(run id, secret hash) of a well-formed run token, else None."""
    if not token.startswith(RUN_TOKEN_PREFIX):
        return None
    # uuid4 run ids contain no "_", token_urlsafe secrets may: split on the id's length.
    body = token[len(RUN_TOKEN_PREFIX) :]
    run_id, sep, secret = body[:36], body[36:37], body[37:]
    if sep != "_" or not secret:
        return None
    return run_id, _hash(secret)


def key_matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def hashes_match(given_hash: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(given_hash, stored_hash)


def bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("missing API key: send 'Authorization: Bearer <key>'")
    return token.strip()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
