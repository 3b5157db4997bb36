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

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import DBAPIError


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table`."""
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name not in ("postgresql", "sqlite"):
        connection.execute(insert(table), list(rows))
        return
    keys = list(rows[0])
    processors = [table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys]
    quote = dialect.identifier_preparer
    columns = f"{quote.format_table(table)} ({', '.join(quote.quote(k) for k in keys)})"
    driver = connection.connection.driver_connection
    assert driver is not None  # a checked-out connection always has one
    error = dialect.loaded_dbapi.Error

    def values(row: Mapping[str, Any]) -> list[Any]:
        return [value if p is None else p(value) for p, value in zip(processors, (row[k] for k in keys), strict=True)]

    if dialect.name == "sqlite":
        statement = f"INSERT INTO {columns} VALUES ({', '.join('?' * len(keys))})"
        try:
            driver.executemany(statement, [values(row) for row in rows])
        except error as exc:  # the same exception SQLAlchemy's INSERT would raise
            raise DBAPIError.instance(statement, None, exc, error) from exc
        return
    statement = f"COPY {columns} FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(values(row))
    except error as exc:  # the same exception an INSERT would raise (IntegrityError, ...)
        raise DBAPIError.instance(statement, None, exc, error) from exc
