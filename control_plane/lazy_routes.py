"""Route modules loaded on the first request that could reach them.

`create_app()` does not import the route modules (their pydantic schemas, their
dependencies, the UI's templates): each holds its place in the app's route table with a
placeholder that matches nothing, and the first request whose path could reach one of its
routes imports the module and puts its router in that place. After that the table is what
including every router up front would have built, in the same order, so a request is
routed exactly as before. A control plane pays only for the routes it serves: a Lambda
answering a runtime's reports never loads the UI or the automations, and a server that
has not served a route yet holds none of it (docs/performance.md).

Each module declares the request paths that can reach its routes: prefixes, and exact
paths for routes without parameters that a prefix would over-match ("/"). A request path
starting with a prefix loads the module, so declaring too much only loads early; declaring
too little would answer 404, which tests/control_plane/test_lazy_routes.py rules out for
every route. Anything that reads the whole table (the OpenAPI document, its 405 answers, a
Lambda preload) calls `load_all` first.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, NoMatchFound

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class RouteModule:
    """A module whose `router` the app includes with `prefix`, loaded when a request path
    starts with one of `paths` or equals one of `exact`."""

    module: str
    paths: tuple[str, ...]
    prefix: str = "/api"
    exact: tuple[str, ...] = ()

    def reaches(self, path: str) -> bool:
        return path.startswith(self.paths) or path in self.exact


class Placeholder(BaseRoute):
    """A module's place in the route table until it loads: matches no request."""

    def __init__(self, spec: RouteModule) -> None:
        self.spec = spec

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
        raise RuntimeError(f"{self.spec.module} is not loaded")  # matches() never lets a request here


class LazyRoutes:
    """The app's not-yet-loaded route modules, in table order."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.pending: list[Placeholder] = []
        self._pending_paths = RouteModule("", ())  # every pending module's paths: one test per request

    def _pending_changed(self) -> None:
        self._pending_paths = RouteModule(
            "",
            tuple(path for p in self.pending for path in p.spec.paths),
            exact=tuple(path for p in self.pending for path in p.spec.exact),
        )

    def add(self, *specs: RouteModule) -> None:
        """Reserve the next places in the route table for these modules."""
        for spec in specs:
            placeholder = Placeholder(spec)
            self.app.router.routes.append(placeholder)
            self.pending.append(placeholder)
        self._pending_changed()

    def load_for(self, scope: Scope) -> None:
        path = get_route_path(scope)  # what the router matches: the path without root_path
        if not self._pending_paths.reaches(path):
            return
        for placeholder in [p for p in self.pending if p.spec.reaches(path)]:
            self._load(placeholder)

    def load_all(self) -> None:
        for placeholder in list(self.pending):
            self._load(placeholder)

    def _load(self, placeholder: Placeholder) -> None:
        spec = placeholder.spec
        router = importlib.import_module(spec.module).router
        routes = self.app.router.routes
        end = len(routes)
        self.app.include_router(router, prefix=spec.prefix)
        added = routes[end:]
        del routes[end:]
        at = routes.index(placeholder)
        routes[at : at + 1] = added
        self.pending.remove(placeholder)
        self._pending_changed()


class LoadRoutes:
    """ASGI middleware: loads the route modules a request could reach before the app
    routes it; once every module is loaded it only passes requests on."""

    def __init__(self, app: ASGIApp, routes: LazyRoutes) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.routes.pending and scope["type"] in ("http", "websocket"):
            self.routes.load_for(scope)
        await self.app(scope, receive, send)


def lazy_routes(app: FastAPI) -> LazyRoutes:
    """The app's LazyRoutes (create_app installs one)."""
    routes: LazyRoutes = app.state.lazy_routes
    return routes
