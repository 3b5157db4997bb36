"""Client-side settings, read from the environment (`PUSHFLOW_*`) when asked for.

The server's settings (control_plane.settings) build on the same home folder and key file.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_PORT = 4300
DEFAULT_API_URL = f"http://127.0.0.1:{DEFAULT_PORT}/api"


def home() -> Path:
    return Path(os.environ.get("PUSHFLOW_HOME") or Path.home() / ".pushflow").expanduser()


def api_key_file() -> Path:
    return home() / "api_key"


def api_url() -> str:
    """`PUSHFLOW_API_URL`, else the local server on `PUSHFLOW_PORT` (the port it binds)."""
    port = os.environ.get("PUSHFLOW_PORT") or DEFAULT_PORT
    return os.environ.get("PUSHFLOW_API_URL") or f"http://127.0.0.1:{port}/api"


def api_key() -> str | None:
    """`PUSHFLOW_API_KEY`, else the file `PUSHFLOW_API_KEY_FILE` names, else the key the
    local server saved on its first start."""
    key = os.environ.get("PUSHFLOW_API_KEY")
    if key:
        return key
    path = os.environ.get("PUSHFLOW_API_KEY_FILE")
    try:
        return (Path(path) if path else api_key_file()).read_text().strip() or None
    except OSError:
        return None
