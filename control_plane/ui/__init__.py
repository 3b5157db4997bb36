"""The web UI, served by the control plane itself under `/ui`, plus the local Swagger UI
at `/api/docs` and the security headers every response carries. Assets ship in this
package; nothing loads from a CDN. The pages' modules (and their templates) load on the
first request to them (control_plane/lazy_routes.py)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles

from control_plane.lazy_routes import LazyRoutes, RouteModule
from control_plane.ui.deps import CsrfRejected, ScopeRefused, SignInRequired, sign_in_url
from control_plane.ui.headers import SecurityHeaders

STATIC_DIR = Path(__file__).parent / "static"

PAGES = (
    RouteModule("control_plane.ui.docs", ("/api/docs",), prefix=""),
    RouteModule("control_plane.ui.signin", ("/ui/login", "/ui/logout"), prefix="", exact=("/",)),
    RouteModule("control_plane.ui.dashboard", (), prefix="", exact=("/ui", "/ui/")),
    RouteModule("control_plane.ui.runs", ("/ui/events/last", "/ui/runs"), prefix=""),
    RouteModule("control_plane.ui.deployments", ("/ui/deployments",), prefix=""),
    RouteModule("control_plane.ui.pools", ("/ui/pools",), prefix=""),
    RouteModule("control_plane.ui.events", ("/ui/events",), prefix=""),
    RouteModule("control_plane.ui.automations", ("/ui/automations",), prefix=""),
)


def install_ui(app: FastAPI, routes: LazyRoutes) -> None:
    app.add_middleware(SecurityHeaders)
    app.mount("/ui/static", GZipMiddleware(StaticFiles(directory=STATIC_DIR)), name="ui-static")
    routes.add(*PAGES)

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        if request.method != "GET":
            return HTMLResponse("Your session has ended: sign in again.", status_code=401)
        return RedirectResponse(sign_in_url(exc.next_url, exc.ended), status_code=303)

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(_: Request, __: CsrfRejected) -> Response:
        message = "This form is stale or came from another site: reload the page and try again."
        return HTMLResponse(message, status_code=403)

    @app.exception_handler(ScopeRefused)
    async def scope_refused(request: Request, exc: ScopeRefused) -> Response:
        from control_plane.ui.render import render

        message = (
            f"Your key ({exc.session.who}) has scope {exc.session.scope.value!r}; this action needs "
            f"{exc.needed.value!r} or above. Sign in with a key of that scope (pushflow key create NAME "
            f"--scope {exc.needed.value})."
        )
        return render(request, "forbidden.html", session=exc.session, status_code=403, message=message)
