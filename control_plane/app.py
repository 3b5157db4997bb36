"""The FastAPI application factory.

Importing this module does no work and loads nothing heavy: FastAPI and the web stack
are imported by `create_app`, each route module (with its schemas and the models it uses)
by the first request that could reach it (control_plane/lazy_routes.py), and the database
by `check_ready` / `build_services`, so a process pays for each only when it needs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from control_plane.services import Services
    from control_plane.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    from control_plane.fastapi_compat import cache_sequence_checks, import_fastapi, skip_pydantic_v1_import

    import_fastapi()  # its own models validated on first use
    from fastapi import FastAPI

    skip_pydantic_v1_import()  # before the routes are built: each would ask
    cache_sequence_checks()
    from control_plane.audit import AuditLog
    from control_plane.error_handlers import install_error_handlers
    from control_plane.lazy_routes import LazyRoutes, LoadRoutes, RouteModule
    from control_plane.limits import RequestBodyLimit
    from control_plane.openapi import install_openapi
    from control_plane.routes import health
    from control_plane.settings import Settings
    from control_plane.ui import install_ui

    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        loops = None
        if settings.run_loops:
            from control_plane.loops import BackgroundLoops

            loops = BackgroundLoops(services)
            services.wake = loops.wake
            loops.start()
        try:
            yield
        finally:
            if loops is not None:
                loops.stop()
            services.engine.dispose()

    app = FastAPI(
        title="pushflow",
        version="0.1.0",
        description="Serverless push-pool workflow orchestrator. Every route but /api/health "
        "needs `Authorization: Bearer <key>`.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served by control_plane.ui from local assets
        redoc_url=None,
        lifespan=lifespan,
    )
    app.include_router(health.router, prefix="/api")
    # Every other route module loads on the first request that could reach it, in this
    # place of the table (control_plane/lazy_routes.py).
    routes = LazyRoutes(app)
    app.state.lazy_routes = routes
    routes.add(
        RouteModule("control_plane.routes.pools", ("/api/pools",)),
        RouteModule("control_plane.routes.deployments", ("/api/deployments",)),
        RouteModule("control_plane.routes.flow_runs", ("/api/flow-runs",)),
        RouteModule("control_plane.routes.concurrency_limits", ("/api/concurrency-limits", "/api/flow-runs/")),
        RouteModule("control_plane.routes.infrastructure", ("/api/flow-runs/",)),
        RouteModule("control_plane.routes.schedules", ("/api/deployments/",)),
        RouteModule("control_plane.routes.bundles", ("/api/bundles/", "/api/flow-runs/")),
        RouteModule("control_plane.routes.results", ("/api/flow-runs/",)),
    )
    install_ui(app, routes)
    routes.add(
        RouteModule("control_plane.routes.events", ("/api/events", "/api/flow-runs/")),
        RouteModule("control_plane.routes.event_ingest", ("/api/events",)),
        RouteModule("control_plane.routes.webhooks", ("/api/webhooks",)),
        RouteModule("control_plane.routes.hooks", ("/hooks/",), prefix=""),
        RouteModule("control_plane.routes.automations", ("/api/automations",)),
        RouteModule("control_plane.routes.keys", ("/api/keys",)),
        RouteModule("control_plane.routes.audit", ("/api/audit",)),
        RouteModule("control_plane.routes.blocks", ("/api/block-types", "/api/blocks", "/api/flow-runs/")),
    )
    app.add_middleware(AuditLog)
    app.add_middleware(RequestBodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(LoadRoutes, routes=routes)  # outermost: before anything routes
    install_error_handlers(app)
    install_openapi(app)
    return app


def check_ready(settings: Settings) -> None:
    """Raise ConfigurationError, saying what to set or run, if this control plane cannot serve."""
    from control_plane.db import check_schema, create_db_engine

    _keys(settings)
    engine = create_db_engine(settings.resolved_database_url)
    try:
        check_schema(engine)
    finally:
        engine.dispose()


def _keys(settings: Settings) -> tuple[str, str]:
    from control_plane.auth import read_key_file
    from control_plane.errors import ConfigurationError

    if settings.api_key is not None:
        api_key = settings.api_key.get_secret_value()
    elif settings.api_key_file is not None:
        api_key = read_key_file(settings.api_key_file)
    else:
        raise ConfigurationError(
            "no admin API key: set PUSHFLOW_API_KEY or PUSHFLOW_API_KEY_FILE "
            "(`pushflow server start` makes one locally)"
        )
    if settings.server_secret is None:
        raise ConfigurationError(
            "no server secret: set PUSHFLOW_SERVER_SECRET to a long random string; it signs run tokens"
        )
    return api_key, settings.server_secret.get_secret_value()


def build_services(settings: Settings) -> Services:
    """Everything a request needs, from the settings alone: nothing is migrated and no
    file is written here (`pushflow db upgrade` and local mode do that; control_plane/local.py)."""
    from control_plane.bundles import bundle_store
    from control_plane.db import check_schema, create_db_engine
    from control_plane.services import PoolAdapters, Services

    api_key, server_secret = _keys(settings)
    engine = create_db_engine(settings.resolved_database_url)
    check_schema(engine)
    adapters = PoolAdapters()
    store = bundle_store(settings.resolved_bundle_store)
    return Services(
        settings=settings,
        engine=engine,
        api_key=api_key,
        adapters=adapters,
        bundles=store,
        server_secret=server_secret,
    )
