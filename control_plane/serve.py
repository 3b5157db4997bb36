"""`python -m control_plane.serve`: the process `pushflow server start` becomes.

`pushflow server start` checks the address, the database and the keys with the CLI's
help (Typer, click, rich), then replaces itself with this module (`os.execv`, same
process id), so the serving process holds the server alone: the CLI would otherwise stay
resident for the server's whole life (~4 MiB of its RSS, measured). The process's heap
and collector are tuned for a long-lived server here (control_plane/heap.py), not in
the app factory: tests and Lambda build apps in processes of their own. It reads the same
`PUSHFLOW_*` settings; the CLI passes its `--host` and `--port` on as PUSHFLOW_HOST and
PUSHFLOW_PORT.

It also runs at most `REQUEST_THREADS` synchronous route handlers at once, not AnyIO's
default 40: each worker thread keeps the stack it touched and the objects of the request
it serves, and under the API benchmark's 16 clients the server grew to ~40 threads
(peak RSS under load on SQLite 92.7 -> 90.5 MiB with 16, throughput unchanged on two
cores). A request past the limit waits for a free thread; a handler that blocks long (a
provider's API) holds one meanwhile.

It runs on asyncio's own event loop, not uvloop (which uvicorn would pick by itself where
it is installed): on the API benchmark uvloop changed neither CPU per request nor
throughput (the handlers' Python is the cost, not the loop), and its library and libuv's
resolver threads were ~2.4 MiB of the server's RSS (idle on SQLite 80.8 -> 78.4 MiB).
"""

from __future__ import annotations

import logging
from typing import Any

REQUEST_THREADS = 16
EVENT_LOOP = "asyncio"  # uvicorn's name for it; see above


def main() -> None:
    import uvicorn

    from control_plane import heap
    from control_plane.app import create_app
    from control_plane.local import prepare_local
    from control_plane.settings import Settings

    heap.limit_arenas()  # before any thread starts
    logging.basicConfig(level=logging.INFO, format="%(asctime)s | %(levelname)-7s | %(name)s - %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = Settings()
    # On the local store the CLI has migrated it and saved the keys: this reads them back.
    ready = prepare_local(settings) if settings.is_local else settings
    app = create_app(ready)  # imports every route, model and the web stack
    heap.settle()
    served = _with_request_threads(app, REQUEST_THREADS)
    uvicorn.run(served, host=settings.host, port=settings.port, log_level="warning", loop=EVENT_LOOP)


def _with_request_threads(app: Any, threads: int) -> Any:
    """`app`, with the event loop's worker-thread limit set when the server starts it
    (the limit belongs to the running loop, so it cannot be set before)."""

    async def serve(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        await app(scope, receive, send)

    return serve


if __name__ == "__main__":
    main()
