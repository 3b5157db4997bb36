"""Bulk inserts: a batch of rows (a dispatch pass's events, a runtime's task runs and
log lines) in one round trip.

On PostgreSQL a batch goes in through COPY (psycopg's `Cursor.copy`): about half the
client and the server CPU of psycopg 3's executemany, which sends one INSERT per row,
and far less than one multi-row INSERT, whose long statement psycopg re-parses on every
call (measured per event row, client / server: executemany 80 / 50 µs, multi-row VALUES
190 / 35 µs, COPY 42 / 24 µs). Elsewhere (SQLite) it is an executemany, which sqlite3
runs in C.

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
    if dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    keys = list(rows[0])
    processors = [table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys]
    quote = dialect.identifier_preparer
    statement = f"COPY {quote.format_table(table)} ({', '.join(quote.quote(k) for k in keys)}) FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None  # a checked-out connection always has one
    error = dialect.loaded_dbapi.Error
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = (row[k] for k in keys)
                copy.write_row([value if p is None else p(value) for p, value in zip(processors, values, strict=True)])
    except error as exc:  # the same exception an INSERT would raise (IntegrityError, ...)
        raise DBAPIError.instance(statement, None, exc, error) from exc
