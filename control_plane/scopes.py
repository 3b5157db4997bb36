"""Key scopes and what each route needs. One rule for every route, so a new route is
covered the day it is added (tests/control_plane/test_scopes.py walks the app's routes
against every scope):

- `read`: every GET.
- `run`: also start, cancel and report on runs: writes under `/flow-runs`,
  `POST /deployments/{id}/runs`, `POST /events`.
- `deploy`: also change deployments, schedules, bundles, concurrency limits, webhooks,
  automations.
- `admin`: also pools, keys, the audit log (reading keys and audit needs admin too) and
  re-encrypting every block under a new key.

The bootstrap admin key (PUSHFLOW_API_KEY) has `admin`. Run tokens have no scope: they
reach their own run only (auth.Principal.require_run).
"""

from __future__ import annotations

import enum


class Scope(str, enum.Enum):
    """A key's scope: read < run < deploy < admin; each can do what the one before can."""

    READ = "read"
    RUN = "run"
    DEPLOY = "deploy"
    ADMIN = "admin"

    def covers(self, needed: Scope) -> bool:
        return _ORDER.index(self) >= _ORDER.index(needed)


_ORDER = [Scope.READ, Scope.RUN, Scope.DEPLOY, Scope.ADMIN]
_ADMIN_ONLY = ("/keys", "/audit", "/blocks/rotate-key")
_RUN_WRITES = ("/flow-runs", "/events")


def required_scope(method: str, path: str) -> Scope:
    """The scope a request needs; `path` is the route's template (`/flow-runs/{flow_run_id}`)."""
    path = path.removeprefix("/api")
    if path.startswith(_ADMIN_ONLY):
        return Scope.ADMIN
    if method in ("GET", "HEAD", "OPTIONS"):
        return Scope.READ
    if path.startswith(_RUN_WRITES) or (method == "POST" and path == "/deployments/{deployment_id}/runs"):
        return Scope.RUN
    if path.startswith("/pools"):
        return Scope.ADMIN
    return Scope.DEPLOY
