"""The local, all-in-one control plane (`pushflow server start` on the embedded SQLite
store): the one place besides `pushflow db upgrade` that migrates the database, and the
only one that writes keys to files (under `PUSHFLOW_HOME`, 0600) for the CLI to find.

A replica or a Lambda function does neither: its schema is migrated by `pushflow db
upgrade` (or the Lambda's migrate command) and its keys come from the environment.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from control_plane.auth import read_key_file
from control_plane.db import HEAD_REVISION, create_db_engine, migrate, schema_revision
from control_plane.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI  # create_app imports it (control_plane/fastapi_compat.py)


def prepare_local(settings: Settings) -> Settings:
    """Migrate the store and make sure the admin key and the server secret exist (the
    configured ones, else those saved under `home`, else new ones saved there)."""
    engine = create_db_engine(settings.resolved_database_url)
    try:
        if schema_revision(engine) != HEAD_REVISION:  # Alembic loads only to migrate
            migrate(engine)
    finally:
        engine.dispose()
    update = {}
    if settings.api_key is None:
        given = settings.api_key_file
        update["api_key"] = read_key_file(given) if given else _saved_or_new(settings.saved_api_key_file, "pfk_")
    if settings.server_secret is None:
        update["server_secret"] = _saved_or_new(settings.server_secret_file, "")
    return settings.model_copy(update={k: _secret(v) for k, v in update.items()})


def create_local_app(settings: Settings) -> FastAPI:
    from control_plane.app import create_app

    return create_app(prepare_local(settings))


def _saved_or_new(path: Path, prefix: str) -> str:
    try:
        saved = path.read_text().strip()
        if saved:
            return saved
    except FileNotFoundError:
        pass
    value = prefix + secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def _secret(value: str) -> object:
    from pydantic import SecretStr

    return SecretStr(value)
