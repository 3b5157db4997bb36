"""Server-rendered pages: one Jinja environment (autoescaped) and the filters templates use."""

from __future__ import annotations

import functools
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from control_plane.errors import ControlPlaneError
from control_plane.ui.session import UiSession, csrf_token

if TYPE_CHECKING:
    from jinja2 import Environment

# Colour is never the only signal: each state also has a symbol and its name.
STATE_SYMBOLS = {
    "SCHEDULED": "◷",
    "PENDING": "…",
    "RUNNING": "▶",
    "COMPLETED": "✓",
    "FAILED": "✗",
    "CRASHED": "⚠",
    "CANCELLING": "⊘",
    "CANCELLED": "⊘",
    "PAUSED": "❚❚",
}
STATE_ORDER = list(STATE_SYMBOLS)


def format_time(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def run_duration(start: datetime | None, end: datetime | None) -> float | None:
    if start is None:
        return None
    end = end or datetime.now(timezone.utc)
    if start.tzinfo is None:
        start = start.replace(tzinfo=timezone.utc)
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    return max((end - start).total_seconds(), 0.0)


@functools.lru_cache(maxsize=1)  # the package's templates, not state: safe to keep per process
def environment() -> Environment:
    # jinja2 loads with the first page, not with the app: an API-only process (a Lambda
    # container serving the API) never pays for it.
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("control_plane.ui", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = format_time
    env.filters["duration"] = format_duration
    env.filters["pretty_json"] = lambda value: json.dumps(value, indent=2, sort_keys=True, default=str)
    # Only http(s) links from stored values: never a javascript: or data: URL.
    env.tests["web_url"] = lambda value: str(value).startswith(("https://", "http://"))
    env.globals["STATE_SYMBOLS"] = STATE_SYMBOLS
    env.globals["STATE_ORDER"] = STATE_ORDER
    env.globals["run_duration"] = run_duration
    return env


def error_text(exc: ControlPlaneError) -> str:
    """An API error's detail as one sentence for a page."""
    detail = exc.detail
    if isinstance(detail, dict):
        return str(detail.get("message", detail))
    return str(detail)


def _needs(session: UiSession | None, scope: str) -> Markup:
    """Attributes that disable a form's button when the session's key lacks `scope` (the
    server refuses the action anyway), with the reason as its tooltip."""
    if session is None or session.can(scope):
        return Markup("")
    reason = f"Needs a key with scope {scope!r} or above; yours is {session.scope.value!r}"
    return Markup(' disabled title="{}"').format(reason)


def render(
    request: Request,
    template: str,
    *,
    session: UiSession | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    api_key: str = request.app.state.services.api_key
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            path=request.url.path,
            signed_in=session is not None,
            who=session,
            csrf=csrf_token(api_key, session) if session else "",
            needs=lambda scope: _needs(session, scope),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
