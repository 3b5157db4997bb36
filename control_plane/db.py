"""Database engine, sessions and migrations.

SQLite is the embedded default: WAL, BEGIN IMMEDIATE, writers queued in-process
(control_plane.sqlite_writer) and a generous busy timeout between processes, so the local
server's concurrent requests queue for the write lock instead of failing with "database is
locked". PostgreSQL is the production store.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic_core import from_json
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
# Execution option marking an engine view whose transactions only read.
READ_ONLY = "pushflow_read_only"
SQLITE_BUSY_SECONDS = 30


def read_only(engine: Engine) -> Engine:
    """A view of `engine` for transactions that only read: on SQLite they begin deferred,
    so reads neither take nor wait for the write lock; on PostgreSQL they run without a
    transaction (see `autocommit`): under READ COMMITTED each statement has a snapshot of
    its own either way, so reads lose nothing and save the BEGIN and ROLLBACK."""
    return autocommit(engine).execution_options(**{READ_ONLY: True})


def autocommit(engine: Engine) -> Engine:
    """A view of `engine` for work that reads, or is one statement (atomic by itself): on
    PostgreSQL it runs without BEGIN and COMMIT, two round trips fewer. SQLite keeps its
    transactions (writers queue for the lock as theirs begin)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


# Connections kept open between requests: as many as a server uses at once under load (16
# request threads, control_plane/serve.py, plus the loop and the audit log's writes), so
# a busy server does not open and close a connection per request (with 10 kept, 16
# clients made every request past the tenth connect and disconnect). The pool opens
# them only when needed. Past these, up to POOL_OVERFLOW more, closed when returned.
POOL_SIZE = 20
POOL_OVERFLOW = 10


def create_db_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    _ping_after_idle(engine, PING_AFTER_IDLE_SECONDS)
    event.listen(engine, "connect", _send_lists_in_binary)
    event.listen(engine, "connect", _parse_json_in_rust)
    return engine


def _send_lists_in_binary(dbapi_connection: Any, _record: Any) -> None:
    """Array parameters (a dispatch batch's ids and per-run values: id_sets.py) go in
    PostgreSQL's binary format: psycopg writes the text format in Python, quoting each
    element after a regular-expression check, ~3 µs per element against ~0.4 µs."""
    from psycopg.types.array import ListBinaryDumper

    dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)


def _parse_json_in_rust(dbapi_connection: Any, _record: Any) -> None:
    """JSON columns (a run's parameters, job variables and source: three a row, 150 in a
    listed page) are parsed by pydantic-core's parser, not psycopg's default `json.loads`
    of the bytes (an encoding check, a decode and two regular-expression matches in
    Python per value)."""
    from psycopg.types.json import set_json_loads

    set_json_loads(json_loads, dbapi_connection)


def json_loads(data: bytes | str) -> Any:
    """The value `json.loads` gives for `data`, parsed by pydantic-core; what it refuses
    (a lone surrogate escape, which PostgreSQL's `json` type stores) goes to `json.loads`."""
    try:
        return from_json(data)
    except ValueError:
        return json.loads(data)


# A pooled connection idle longer than this is pinged before it is used, so one that a
# database restart or failover closed is replaced instead of failing a request. Pinging
# on every checkout (pool_pre_ping) cost a round trip per request: a third of a read's.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi: Any, record: Any) -> None:
        if record is not None:
            record.info["pushflow_idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("pushflow_idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"a pooled connection idle for {idle_seconds:g}s or more is gone") from exc


def _sqlite_engine(url: str) -> Engine:
    # Here, not at the top: it imports the sqlite3 module, ~0.8 MiB a server on
    # PostgreSQL would hold for nothing.
    from control_plane.sqlite_writer import serialise_writes

    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        _private_file(Path(path))
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS})
    serialise_writes(engine, timeout=SQLITE_BUSY_SECONDS, read_only_option=READ_ONLY)  # before BEGIN IMMEDIATE

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's `begin` below open transactions, not the driver.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")  # readers never wait for the write lock (WAL)
            return
        # Take the write lock up front: a deferred transaction that later writes can fail
        # at once with SQLITE_BUSY instead of waiting its turn.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only (0600), before SQLite creates
    it with the umask's 0644; SQLite gives its -wal and -shm files the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # a file an older version created 0644


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


# The newest migration's revision id, what a serving process expects in alembic_version.
# A constant so that the schema check loads no Alembic (~11 MiB resident, and a scan of the
# migration scripts) in a serving process; tests/control_plane/test_migrations.py keeps it
# equal to the head of control_plane/migrations.
HEAD_REVISION = "0015"


def check_schema(engine: Engine) -> None:
    """Refuse to serve a database whose schema is not the newest revision (it is migrated
    by `pushflow db upgrade`, never by a serving process)."""
    from control_plane.errors import ConfigurationError

    current = schema_revision(engine)
    if current != HEAD_REVISION:
        found = f"revision {current}" if current else "no schema"
        raise ConfigurationError(
            f"the database has {found}, this version needs {HEAD_REVISION}: run `pushflow db upgrade`"
        )


def schema_revision(engine: Engine) -> str | None:
    """The revision Alembic recorded in the database (None: never migrated), read as
    Alembic's own MigrationContext does, without loading Alembic."""
    with engine.connect() as connection:
        if not engine.dialect.has_table(connection, VERSION_TABLE):
            return None
        found = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    return ",".join(sorted(found)) or None  # more than one row: a branched history, never ours


VERSION_TABLE = "alembic_version"


def sessions(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
