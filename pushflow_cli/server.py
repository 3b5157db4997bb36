from __future__ import annotations

import logging
from typing import Any

import typer

from pushflow_cli.console import console, fail

app = typer.Typer(help="Run the control plane.", no_args_is_help=True)


@app.command("start")
def start(
    host: str = typer.Option(None, help="Address to bind (default 127.0.0.1)"),
    port: int = typer.Option(None, min=0, max=65535, help="Port to bind (default 4300)"),
) -> None:
    """Serve the API and run the passes in a loop. On the embedded SQLite store (the default,
    under ~/.pushflow) it migrates the store and makes the keys it needs; with
    PUSHFLOW_DATABASE_URL set to a shared database it does neither (`pushflow db upgrade`,
    PUSHFLOW_API_KEY and PUSHFLOW_SERVER_SECRET)."""
    try:
        import uvicorn  # noqa: F401 - the serving process needs it: say so before exec

        from control_plane.app import check_ready
        from control_plane.errors import ConfigurationError
        from control_plane.local import prepare_local
        from control_plane.settings import Settings, SettingsError
    except ImportError as exc:
        raise fail(f'the server needs its extra ({exc.name} is missing): pip install "pushflow[server]"') from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s | %(levelname)-7s | %(name)s - %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # not ten INFO lines on every start
    overrides: dict[str, Any] = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    try:
        settings = Settings(**overrides)
    except SettingsError as exc:
        raise fail(str(exc), 2) from None
    _check_address(settings.host, settings.port)
    _check_database(settings.resolved_database_url)
    local = settings.is_local and settings.api_key is None and settings.api_key_file is None
    if settings.is_local:
        _upgrade_in_child(settings.resolved_database_url)
    try:
        ready = prepare_local(settings) if settings.is_local else settings
        check_ready(ready)
    except ConfigurationError as exc:
        raise fail(exc.detail) from None
    console.print(
        f"pushflow API on http://{settings.host}:{settings.port}/api "
        f"(docs: /api/docs), database {_redact(settings.resolved_database_url)}"
    )
    if local:
        console.print(f"API key: {settings.saved_api_key_file} (the CLI reads it from there)")
    _become_server(settings.host, settings.port)


def _become_server(host: str, port: int) -> None:
    """Replace this process with the serving one (control_plane/serve.py): same pid, none
    of the CLI's modules resident while it serves."""
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    env = {**os.environ, "PUSHFLOW_HOST": host, "PUSHFLOW_PORT": str(port)}
    os.execve(sys.executable, [sys.executable, "-m", "control_plane.serve"], env)


def _check_address(host: str, port: int) -> None:
    """Fail in one line, before anything starts, when the address cannot be bound."""
    import socket

    if not 0 <= port <= 65535:
        raise fail(f"port {port} is out of range; give --port or PUSHFLOW_PORT between 0 and 65535", 2)
    try:
        with socket.socket() as probe:
            # As uvicorn binds: connections of a server that just died (TIME_WAIT) must not
            # keep its replacement from starting on the same port.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise fail(
            f"cannot listen on {host}:{port} ({exc.strerror}); stop what uses it (another pushflow "
            "server?) or choose another port with --port or PUSHFLOW_PORT"
        ) from None


def _upgrade_in_child(url: str) -> None:
    """Migrate the local store in a child `pushflow db upgrade`, if it is behind, so Alembic
    (~11 MiB resident) never loads in the serving process (prepare_local then finds the
    schema at its head and migrates nothing)."""
    import subprocess
    import sys

    from control_plane.db import HEAD_REVISION, create_db_engine, schema_revision

    engine = create_db_engine(url)
    try:
        if schema_revision(engine) == HEAD_REVISION:
            return
    finally:
        engine.dispose()
    done = subprocess.run([sys.executable, "-m", "pushflow_cli", "db", "upgrade"], capture_output=True, text=True)
    if done.returncode != 0:  # the child said why in one line ("Error: cannot migrate ..."): pass it on
        said = done.stderr.strip().splitlines()[-1:] or [f"pushflow db upgrade exited with {done.returncode}"]
        raise fail(said[0].removeprefix("Error: "))


def _check_database(url: str) -> None:
    """Fail in one line when the database cannot be reached (instead of a startup traceback)."""
    from sqlalchemy.exc import SQLAlchemyError

    from control_plane.db import create_db_engine

    engine = create_db_engine(url)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise fail(f"cannot reach the database {_redact(url)}: {reason}; check PUSHFLOW_DATABASE_URL") from None
    finally:
        engine.dispose()


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
