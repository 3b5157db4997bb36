"""SQLite's single writer, queued inside the process instead of in SQLite's busy handler.

SQLite lets one transaction write at a time. A second `BEGIN IMMEDIATE` waits in SQLite's
busy handler, which sleeps between retries (1, 2, 5, 10 ... up to 100 ms), so under
concurrent requests the latency tail is made of sleeps. Here every write transaction of
one engine first takes a lock in this process: a waiting writer wakes the moment the
writer ahead gives its connection back. SQLite's busy timeout still arbitrates between
processes (a second server, the CLI).

The lock cannot leak. It belongs to a pooled connection: taken when a write transaction
begins on it (not again while it already holds it), and given back by the pool whenever
that connection leaves use: returned (after the commit or the rollback of reset-on-return),
invalidated, closed or detached. Waiting is bounded by the busy timeout and then fails as
SQLite would ("database is locked", a 503 with Retry-After from the API).
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

_HOLDS = "pushflow_holds_sqlite_writer"


def serialise_writes(engine: Engine, *, timeout: float, read_only_option: str) -> None:
    """Make `engine`'s write transactions wait their turn in-process. Register it before
    the `begin` listener that issues BEGIN IMMEDIATE; transactions begun with the
    execution option `read_only_option` take no lock."""
    lock = threading.Lock()

    def release(record_info: dict[str, Any] | None) -> None:
        if record_info is not None and record_info.pop(_HOLDS, False):
            lock.release()

    def acquire(record_info: dict[str, Any]) -> None:
        if record_info.get(_HOLDS):
            return  # this connection writes again before going back to the pool
        if not lock.acquire(timeout=timeout):
            locked = sqlite3.OperationalError(f"database is locked (waited {timeout:.0f} s for the writer ahead)")
            raise OperationalError("BEGIN IMMEDIATE", None, locked)
        record_info[_HOLDS] = True

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(read_only_option):
            return
        record_info = conn.connection.record_info
        if record_info is not None:  # None: a detached connection; SQLite's handler decides
            acquire(record_info)

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi: Any, record: Any) -> None:
        release(record.record_info if record is not None else None)

    @event.listens_for(engine.pool, "invalidate")
    def _on_invalidate(_dbapi: Any, record: Any, _exc: Any) -> None:
        release(record.record_info)

    @event.listens_for(engine.pool, "close")
    def _on_close(_dbapi: Any, record: Any) -> None:
        release(record.record_info)

    @event.listens_for(engine.pool, "detach")
    def _on_detach(_dbapi: Any, record: Any) -> None:
        release(record.record_info)
