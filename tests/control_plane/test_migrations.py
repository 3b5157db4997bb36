from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

import control_plane.models  # noqa: F401
from control_plane.db import HEAD_REVISION, MIGRATIONS, check_schema, create_db_engine, migrate, schema_revision
from control_plane.errors import ConfigurationError


def test_migrations_have_one_head() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert len(ScriptDirectory.from_config(cfg).get_heads()) == 1


def test_the_head_revision_constant_is_the_newest_migration() -> None:
    """control_plane.db checks the schema against a constant (no Alembic in a serving
    process): a new migration must update it."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION


def test_migrated_schema_matches_the_models(empty_database_url: str) -> None:
    engine = create_db_engine(empty_database_url)
    try:
        migrate(engine)
        migrate(engine)  # re-running is a no-op
        assert schema_revision(engine) == HEAD_REVISION
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == [], "models changed without a migration: add one in control_plane/migrations/versions"


def test_a_serving_process_refuses_a_database_not_at_the_head_revision(empty_database_url: str) -> None:
    engine = create_db_engine(empty_database_url)
    try:
        with pytest.raises(ConfigurationError, match=f"has no schema, this version needs {HEAD_REVISION}"):
            check_schema(engine)
        migrate(engine)
        check_schema(engine)  # at the head: serves
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        with pytest.raises(ConfigurationError, match="has revision 0001, .*run `pushflow db upgrade`"):
            check_schema(engine)
    finally:
        engine.dispose()


def test_the_schema_check_loads_no_alembic(tmp_path: Path) -> None:
    """A serving process checks the schema without Alembic's migration machinery."""
    url = f"sqlite:///{tmp_path / 'pushflow.db'}"
    engine = create_db_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    code = (
        "import sys; from control_plane.db import check_schema, create_db_engine; "
        f"check_schema(create_db_engine({url!r})); print(sorted(m for m in sys.modules if m.startswith('alembic')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
