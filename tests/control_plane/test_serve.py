"""The serving process's own tuning (control_plane/serve.py)."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.to_thread

from control_plane.serve import _with_request_threads


def test_the_served_app_starts_with_the_request_thread_limit() -> None:
    seen: list[float] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(anyio.to_thread.current_default_thread_limiter().total_tokens)

    async def start() -> None:
        await _with_request_threads(app, 7)({"type": "lifespan"}, None, None)
        await _with_request_threads(app, 7)({"type": "http"}, None, None)

    anyio.run(start)
    assert seen == [7, 7]


def test_the_postgresql_pool_keeps_a_connection_per_request_thread(postgres_url: str) -> None:
    # With fewer kept than a busy server's request threads, every request past them
    # opened a connection and closed it again (179 sessions for 2,400 requests).
    from control_plane.db import create_db_engine
    from control_plane.serve import REQUEST_THREADS

    engine = create_db_engine(postgres_url)
    try:
        assert engine.pool.size() > REQUEST_THREADS  # type: ignore[attr-defined]
    finally:
        engine.dispose()
