"""`pushflow db upgrade`: migrate the store. Besides `pushflow server start` on the
embedded SQLite store, this is the only place migrations run (never a replica's or a
Lambda's start)."""

from __future__ import annotations

import typer

from pushflow_cli.console import console, fail

app = typer.Typer(help="Manage the control plane's database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Bring the database at PUSHFLOW_DATABASE_URL to the newest schema (safe to repeat)."""
    try:
        from control_plane.db import create_db_engine, migrate, schema_revision
        from control_plane.settings import Settings, SettingsError
    except ImportError as exc:
        raise fail(
            f'migrations need the server extra ({exc.name} is missing): pip install "pushflow[server]"'
        ) from None
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = Settings()
    except SettingsError as exc:
        raise fail(str(exc), 2) from None
    engine = create_db_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        revision = schema_revision(engine)
    except Exception as exc:  # unreachable database, bad URL, permissions
        raise fail(f"cannot migrate the database: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    console.print(f"database at revision {revision}")
