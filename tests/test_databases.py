"""The stores the tests get (tests/databases.py) are what a fresh migration gives: at the
newest revision, no rows, ids from 1, and each test's its own."""

from __future__ import annotations

import stat
from pathlib import Path

import psycopg
import pytest

from control_plane.db import HEAD_REVISION, create_db_engine, schema_revision
from tests.databases import SchemaPool, SqliteTemplate

SLOT = "INSERT INTO tag_slot (tag, flow_run_id, task_run_id, acquired) VALUES ('t', 'r', %s, now()) RETURNING id"


def _connect(pool: SchemaPool, schema: str) -> psycopg.Connection:
    return psycopg.connect(pool.raw, autocommit=True, options=f"-csearch_path={schema}")


@pytest.mark.postgres
def test_a_schema_given_back_comes_back_empty_with_ids_from_one(postgres_url: str) -> None:
    pool = SchemaPool(postgres_url)
    try:
        schema = pool.take()
        assert _revision(pool.url_of(schema)) == HEAD_REVISION
        with _connect(pool, schema) as conn:
            assert [conn.execute(SLOT, [n]).fetchone() for n in ("a", "b")] == [(1,), (2,)]
        pool.give_back(schema)
        assert pool.take() == schema
        with _connect(pool, schema) as conn:
            assert conn.execute("SELECT count(*) FROM tag_slot").fetchone() == (0,)
            assert conn.execute(SLOT, ["a"]).fetchone() == (1,)
        assert _revision(pool.url_of(schema)) == HEAD_REVISION
        pool.give_back(schema)
    finally:
        pool.close()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE tag_slot ADD COLUMN extra integer",
        "CREATE INDEX ix_extra ON tag_slot (acquired)",
        "UPDATE alembic_version SET version_num = '0001'",
        "DROP TABLE alembic_version",
    ],
)
def test_a_schema_whose_structure_a_test_changed_is_dropped(postgres_url: str, change: str) -> None:
    pool = SchemaPool(postgres_url)
    try:
        schema = pool.take()
        with _connect(pool, schema) as conn:
            conn.execute(change)
        pool.give_back(schema)
        with psycopg.connect(pool.raw) as conn:
            left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [schema]).fetchone()
        assert left == (0,)
        assert pool.take() != schema
    finally:
        pool.close()


def test_each_sqlite_copy_is_its_own_store_at_the_newest_revision(tmp_path: Path) -> None:
    template = SqliteTemplate(tmp_path)
    first, second = (template.copy_to(tmp_path / f"{name}.db") for name in ("first", "second"))
    assert _revision(first) == _revision(second) == HEAD_REVISION
    engine = create_db_engine(first)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO tag_limit (tag, \"limit\", created) VALUES ('t', 1, '2026-01-01')")
    finally:
        engine.dispose()
    assert _count(second, "tag_limit") == 0 and _count(first, "tag_limit") == 1
    assert stat.S_IMODE((tmp_path / "second.db").stat().st_mode) == 0o600


def _revision(url: str) -> str | None:
    engine = create_db_engine(url)
    try:
        return schema_revision(engine)
    finally:
        engine.dispose()


def _count(url: str, table: str) -> int:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())
    finally:
        engine.dispose()
