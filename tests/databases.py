"""Stores at the newest schema for the tests, migrated once per test process, not per test.

Migrating costs ~0.1-0.5 s on SQLite and ~0.5-1 s on PostgreSQL (its DDL: twenty tables
and their indexes, each a set of files), and most API tests build the app on both. So:

- SQLite: one file is migrated per process and copied for each test (`SqliteTemplate`).
- PostgreSQL: a schema is migrated when no emptied one is free; after its test its rows are
  deleted and its sequences restarted, and the next test gets it (`SchemaPool`). A test
  sees what a freshly migrated schema holds: the same tables, no rows, ids from 1. A schema
  whose structure its test changed (tables, columns, defaults, indexes, constraints,
  triggers, functions or the recorded revision differ from when it was migrated) is
  dropped, never handed out again.

What a migration does to an empty store is tested on empty ones (`empty_database_url`,
tests/control_plane/test_migrations.py), not through these.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg

# Everything in the current schema a test could change besides its rows, one line each.
_STRUCTURE = """
SELECT md5(string_agg(line, '|' ORDER BY line)) FROM (
    SELECT 'r ' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(a.attname, '') || ' '
           || coalesce(format_type(a.atttypid, a.atttypmod), '') || ' ' || coalesce(a.attnotnull::text, '')
           || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') AS line
    FROM pg_class c
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
    WHERE c.relnamespace = current_schema()::regnamespace
    UNION ALL
    SELECT 'k ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
    WHERE connamespace = current_schema()::regnamespace
    UNION ALL
    SELECT 'i ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relnamespace = current_schema()::regnamespace
    UNION ALL
    SELECT 't ' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = current_schema()::regnamespace
    UNION ALL
    SELECT 'p ' || proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace
    UNION ALL
    SELECT 'v ' || version_num FROM alembic_version
) AS structure
"""


def new_schema(url: str) -> str:
    """A new, empty schema in the database of `url` (a SQLAlchemy psycopg URL); its name."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(driver_url(url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def schema_url(url: str, schema: str) -> str:
    """`url` with `schema` as its search_path."""
    return f"{url}?options=-csearch_path%3D{schema}"


def driver_url(url: str) -> str:
    """The URL psycopg takes for SQLAlchemy's `postgresql+psycopg://…`."""
    return url.replace("postgresql+psycopg", "postgresql")


def _migrate(url: str) -> None:
    from control_plane.db import create_db_engine, migrate

    engine = create_db_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()  # SQLite: the last connection's close folds the WAL into the file


class SqliteTemplate:
    """A SQLite file at the newest schema, migrated on first use; `copy_to` gives a test
    its own copy (0600, as the server creates it)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "template.db"
        self._migrated = False

    def copy_to(self, path: Path) -> str:
        if not self._migrated:
            _migrate(f"sqlite:///{self.path}")
            self._migrated = True
        shutil.copy2(self.path, path)
        return f"sqlite:///{path}"


_process_template: SqliteTemplate | None = None


def sqlite_template() -> SqliteTemplate:
    """This process's SQLite template (in a temporary folder removed at exit)."""
    global _process_template
    if _process_template is None:
        folder = tempfile.mkdtemp(prefix="pushflow-sqlite-template-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _process_template = SqliteTemplate(Path(folder))
    return _process_template


class SchemaPool:
    """Migrated PostgreSQL schemas for the tests of one process, each used by one test at a
    time: `take` one, `give_back` it when its test is over (emptied there), `close` at the end."""

    def __init__(self, url: str) -> None:
        self.url = url  # postgresql+psycopg://…/test, as SQLAlchemy takes it
        self.raw = driver_url(url)
        self._free: list[str] = []
        self._structure: dict[str, str] = {}  # schema -> its structure when migrated
        self._tables: dict[str, list[str]] = {}
        self._sequences: dict[str, list[str]] = {}

    def url_of(self, schema: str) -> str:
        return schema_url(self.url, schema)

    def take(self) -> str:
        if self._free:
            return self._free.pop()
        schema = new_schema(self.url)
        _migrate(self.url_of(schema))
        with self._connect(schema) as conn:
            self._structure[schema] = self._structure_of(conn)
            self._tables[schema] = self._names(conn, "r", but="alembic_version")
            self._sequences[schema] = self._names(conn, "S")
        return schema

    def give_back(self, schema: str) -> None:
        """Empty `schema` for the next test, or drop it if its test changed its structure."""
        with self._connect(schema) as conn:
            try:
                changed = self._structure_of(conn) != self._structure[schema]
            except psycopg.errors.UndefinedTable:  # its alembic_version is gone
                changed = True
            if changed:
                self._drop(conn, schema)
                return
            with conn.transaction():
                # Rows in any order: no foreign key is checked while the table is emptied.
                conn.execute("SET LOCAL session_replication_role = replica")
                for table in self._tables[schema]:
                    conn.execute(f'DELETE FROM "{table}"')
                for sequence in self._sequences[schema]:
                    conn.execute("SELECT setval(%s, 1, false)", [f'"{schema}"."{sequence}"'])
        self._free.append(schema)

    def close(self) -> None:
        with psycopg.connect(self.raw, autocommit=True) as conn:
            for schema in self._free:
                self._drop(conn, schema)
        self._free.clear()

    def _drop(self, conn: psycopg.Connection, schema: str) -> None:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        for known in (self._structure, self._tables, self._sequences):
            known.pop(schema, None)

    def _connect(self, schema: str) -> psycopg.Connection:
        return psycopg.connect(self.raw, autocommit=True, options=f"-csearch_path={schema}")

    @staticmethod
    def _structure_of(conn: psycopg.Connection) -> str:
        row = conn.execute(_STRUCTURE).fetchone()
        assert row is not None
        return str(row[0])

    @staticmethod
    def _names(conn: psycopg.Connection, kind: str, but: str = "") -> list[str]:
        rows = conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
            " AND relkind = %s AND relname <> %s ORDER BY relname",
            [kind, but],
        ).fetchall()
        return [row[0] for row in rows]
