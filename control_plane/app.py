"""The FastAPI application factory.

Importing this module does no work and loads nothing heavy: FastAPI, SQLAlchemy, the
models and every route module are imported by `create_app` (and the database by
`check_ready` / `build_services`), so a process pays for them only when it builds the app.
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
    from fastapi import FastAPI

    from control_plane.fastapi_compat import skip_pydantic_v1_import

    skip_pydantic_v1_import()  # before the routes are built: each would ask
    from control_plane.audit import AuditLog
    from control_plane.error_handlers import install_error_handlers
    from control_plane.limits import RequestBodyLimit
    from control_plane.openapi import install_openapi
    from control_plane.routes import (
        audit,
        automations,
        blocks,
        bundles,
        concurrency_limits,
        deployments,
        event_ingest,
        events,
        flow_runs,
        health,
        hooks,
        infrastructure,
        keys,
        pools,
        results,
        schedules,
        webhooks,
    )
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
    for router in (health.router, pools.router, deployments.router, flow_runs.router, concurrency_limits.router):
        app.include_router(router, prefix="/api")
    app.include_router(infrastructure.router, prefix="/api")
    app.include_router(schedules.router, prefix="/api")
    app.include_router(bundles.router, prefix="/api")
    app.include_router(results.router, prefix="/api")
    install_ui(app)
    app.include_router(events.router, prefix="/api")
    app.include_router(event_ingest.router, prefix="/api")
    app.include_router(webhooks.router, prefix="/api")
    app.include_router(hooks.router)
    app.include_router(automations.router, prefix="/api")
    app.include_router(keys.router, prefix="/api")
    app.include_router(audit.router, prefix="/api")
    app.include_router(blocks.router, prefix="/api")
    app.add_middleware(AuditLog)
    app.add_middleware(RequestBodyLimit, max_bytes=settings.max_request_bytes)
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
