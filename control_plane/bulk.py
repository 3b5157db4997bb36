"""Bulk inserts: a batch of rows (a dispatch pass's events, a runtime's task runs and
log lines) in one round trip.

On PostgreSQL a batch goes in through COPY (psycopg's `Cursor.copy`): about half the
client and the server CPU of psycopg 3's executemany, which sends one INSERT per row,
and far less than one multi-row INSERT, whose long statement psycopg re-parses on every
call (measured per event row, client / server: executemany 80 / 50 µs, multi-row VALUES
190 / 35 µs, COPY 42 / 24 µs). On SQLite it is one prepared INSERT run by sqlite3's
`executemany`, in C, on the session's own connection: SQLAlchemy's executemany builds a
parameter dict per row through the compiler first, which was most of the server's CPU
for a runtime's batch of task runs and log lines (py-spy, `SQLCompiler.construct_params`).
Any other dialect takes SQLAlchemy's executemany.

Each value passes through its column type's bind processor first, exactly as in an
INSERT, so JSON, enums and UTC timestamps are stored the same way either way. A column
the rows leave out gets its server default (a serial id) or NULL: rows must carry every
Python-side default themselves. COPY runs inside the caller's transaction.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Table, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

from control_plane.id_sets import id_in


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table`."""
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name not in ("postgresql", "sqlite"):
        connection.execute(insert(table), list(rows))
        return
    keys = list(rows[0])
    processors = [_processor(table.c[key].type, dialect) for key in keys]
    quote = dialect.identifier_preparer
    columns = f"{quote.format_table(table)} ({', '.join(quote.quote(k) for k in keys)})"
    values = _row_values(keys, processors)

    if dialect.name == "sqlite":
        statement = f"INSERT INTO {columns} VALUES ({', '.join('?' * len(keys))})"
        with _on_driver(connection, statement) as driver:
            driver.executemany(statement, [values(row) for row in rows])
        return
    statement = f"COPY {columns} FROM STDIN"
    with _on_driver(connection, statement) as driver, driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(values(row))


@contextlib.contextmanager
def _on_driver(connection: Connection, statement: str) -> Iterator[Any]:
    """The connection's driver connection, to run `statement` on directly; a driver error
    raised meanwhile becomes the exception SQLAlchemy would raise for it (IntegrityError, ...)."""
    driver = connection.connection.driver_connection
    assert driver is not None  # a checked-out connection always has one
    error = connection.dialect.loaded_dbapi.Error
    try:
        yield driver
    except error as exc:
        raise DBAPIError.instance(statement, None, exc, error) from exc


def _bind_processors(table: Table, keys: Sequence[str], dialect: Dialect) -> list[Any]:
    """Each column's bind processor (None where the driver takes the value as it is)."""
    return [table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys]


def _processor(type_: Any, dialect: Any) -> Any:
    """The column type's bind processor; for a JSON column, one that writes a list of
    strings (a task run's tags, most often `[]`) once per batch: SQLAlchemy's calls
    json.dumps per row (~14k instructions, against ~1.5k for a repeated list here)."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None or not isinstance(type_, JSON):
        return process
    texts: dict[tuple[str, ...], Any] = {}

    def process_json(value: Any) -> Any:
        if type(value) is not list or (value and not all(type(item) is str for item in value)):
            return process(value)
        key = tuple(value)
        text = texts.get(key)
        if text is None:
            text = texts[key] = process(value)
        return text

    return process_json


RowValues = Callable[[Mapping[str, Any]], list[Any]]  # a row's bound values, in its statement's column order


def _row_values(keys: list[str], processors: list[Any]) -> RowValues:
    """A function from a row to its bound values, in `keys` order: the values are read in
    one C call and only the columns with a bind processor run Python code (a task run has
    12 columns, 4 of them processed; most of a batch's insert CPU was this loop)."""
    pick = itemgetter(*keys)
    processed = [(i, p) for i, p in enumerate(processors) if p is not None]

    def values(row: Mapping[str, Any]) -> list[Any]:
        picked = pick(row)
        out = list(picked) if len(keys) > 1 else [picked]
        for i, process in processed:
            out[i] = process(out[i])
        return out

    return values


def select_by_ids(connection: Connection, table: Table, columns: Sequence[str], ids: Collection[str]) -> list[Any]:
    """The `columns` of the rows of `table` whose text `id` is one of `ids`, as tuples.
    On SQLite in one prepared statement on the session's connection: SQLAlchemy renders
    and processes each value of an IN list in Python on every call (a batch of 500
    task-run ids: ~15k instructions an id, against ~5k here, callgrind). Elsewhere one
    statement through SQLAlchemy (on PostgreSQL with the ids as one array: id_sets.py)."""
    if not ids:
        return []
    dialect = connection.dialect
    if dialect.name != "sqlite":
        query = select(*(table.c[c] for c in columns)).where(id_in(table.c.id, ids, dialect.name == "postgresql"))
        return [tuple(row) for row in connection.execute(query)]
    quote = dialect.identifier_preparer
    statement = (
        f"SELECT {', '.join(quote.quote(c) for c in columns)} FROM {quote.format_table(table)} "
        f"WHERE id IN ({', '.join('?' * len(ids))})"
    )
    with _on_driver(connection, statement) as driver:
        return driver.execute(statement, list(ids)).fetchall()  # type: ignore[no-any-return]


def insert_one_locked(connection: Connection, table: Table, row: Mapping[str, Any], lock_key: int) -> None:
    """Insert one row once the transaction-scoped advisory lock `lock_key` is held
    (PostgreSQL only), in one statement: the lock is taken by a condition with no outer
    reference, evaluated once before any row is produced, so before the row's serial id is
    drawn. Each value is cast to its column's type (psycopg sends text parameters
    untyped, which a SELECT would read as text). The text is the same for the same keys,
    so psycopg prepares it after a few calls. Against the lock statement and a COPY of
    one row, client CPU per commit of one event: 471 → 360 µs (min of 10 rounds of 300),
    769 → 499 µs (median)."""
    statement, values = _locked_insert(table, tuple(row), connection.dialect)
    with _on_driver(connection, statement) as driver, driver.cursor() as cursor:
        cursor.execute(statement, [*values(row), lock_key])


@functools.lru_cache(maxsize=64)
def _locked_insert(table: Table, keys: tuple[str, ...], dialect: Dialect) -> tuple[str, RowValues]:
    """`insert_one_locked`'s statement and a row's bound values for these columns, built
    once (an event's or an audit row's keys are always the same few sets)."""
    quote = dialect.identifier_preparer
    types = [dialect.type_compiler_instance.process(table.c[key].type) for key in keys]
    statement = (
        f"INSERT INTO {quote.format_table(table)} ({', '.join(quote.quote(k) for k in keys)}) "
        f"SELECT {', '.join(f'CAST(%s AS {t})' for t in types)} "
        "WHERE EXISTS (SELECT FROM pg_advisory_xact_lock(%s))"
    )
    return statement, _row_values(list(keys), _bind_processors(table, keys, dialect))


def insert_one_returning_id(connection: Connection, table: Table, row: Mapping[str, Any]) -> int:
    """Insert one row and return its serial `id`. On PostgreSQL in one driver call with a
    statement built once per set of keys (each value through its column's bind
    processor, as in an INSERT), not through SQLAlchemy's execute and result machinery:
    a state-changing request's audit row (control_plane/audit.py). Elsewhere SQLAlchemy's
    INSERT ... RETURNING."""
    dialect = connection.dialect
    if dialect.name != "postgresql":
        return int(connection.execute(insert(table).returning(table.c.id), dict(row)).scalar_one())
    statement, values = _returning_insert(table, tuple(row), dialect)
    with _on_driver(connection, statement) as driver, driver.cursor() as cursor:
        cursor.execute(statement, values(row))
        found = cursor.fetchone()
    assert found is not None  # RETURNING of one inserted row
    return int(found[0])


@functools.lru_cache(maxsize=16)
def _returning_insert(table: Table, keys: tuple[str, ...], dialect: Dialect) -> tuple[str, RowValues]:
    quote = dialect.identifier_preparer
    statement = (
        f"INSERT INTO {quote.format_table(table)} ({', '.join(quote.quote(k) for k in keys)}) "
        f"VALUES ({', '.join('%s' for _ in keys)}) RETURNING id"
    )
    return statement, _row_values(list(keys), _bind_processors(table, keys, dialect))
