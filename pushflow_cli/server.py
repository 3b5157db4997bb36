from __future__ import annotations

import logging
from typing import Any

import typer

from pushflow_cli.console import console, fail

app = typer.Typer(help="Run the control plane.", no_args_is_help=True)


@app.command("start")
def start(
    host: str = typer.Option(None, help="Address to bind (default 127.0.0.1)"),
    port: int = typer.Option(None, help="Port to bind (default 4300)"),
) -> None:
    """Serve the API and run the dispatcher and reconciler (SQLite under ~/.pushflow by default)."""
    try:
        import uvicorn

        from control_plane.app import create_app
        from control_plane.settings import Settings
    except ImportError as exc:
        raise fail(f'the server needs its extra ({exc.name} is missing): pip install "pushflow[server]"') from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s | %(levelname)-7s | %(name)s - %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # not ten INFO lines on every start
    overrides: dict[str, Any] = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = Settings(**overrides)
    console.print(
        f"pushflow API on http://{settings.host}:{settings.port}/api "
        f"(docs: /api/docs), database {_redact(settings.resolved_database_url)}"
    )
    if not settings.api_key:
        console.print(f"API key: {settings.api_key_file} (the CLI reads it from there)")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
