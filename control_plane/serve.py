"""`python -m control_plane.serve`: the process `pushflow server start` becomes.

`pushflow server start` checks the address, the database and the keys with the CLI's
help (Typer, click, rich), then replaces itself with this module (`os.execv`, same
process id), so the serving process holds the server alone: the CLI would otherwise stay
resident for the server's whole life (~4 MiB of its RSS, measured). The process's heap
and collector are tuned for a long-lived server here (control_plane/heap.py), not in
the app factory: tests and Lambda build apps in processes of their own. It reads the same
`PUSHFLOW_*` settings; the CLI passes its `--host` and `--port` on as PUSHFLOW_HOST and
PUSHFLOW_PORT.
"""

from __future__ import annotations

import logging


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
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
