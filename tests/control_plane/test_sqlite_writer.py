"""On SQLite, the control plane's writers queue in-process for the one write lock, and the
queue never jams: a writer that fails, rolls back or loses its connection frees the lock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from control_plane.db import create_db_engine, read_only


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    return engine


def count(engine: Engine) -> int:
    with Session(read_only(engine)) as session:
        return int(session.execute(text("SELECT n FROM counter")).scalar_one())


def test_concurrent_writers_all_commit_without_errors(engine: Engine) -> None:
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(20):
                with Session(engine) as session:
                    session.execute(text("UPDATE counter SET n = n + 1"))
                    session.commit()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert count(engine) == 16 * 20


def test_a_writer_that_fails_midway_frees_the_lock(engine: Engine) -> None:
    with pytest.raises(RuntimeError), Session(engine) as session:
        session.execute(text("UPDATE counter SET n = n + 1"))
        raise RuntimeError("the request failed before committing")
    with Session(engine) as session:  # would wait for the busy timeout if the lock leaked
        session.execute(text("UPDATE counter SET n = n + 5"))
        session.commit()
    assert count(engine) == 5


def test_a_writer_whose_connection_is_invalidated_frees_the_lock(engine: Engine) -> None:
    conn = engine.connect()
    conn.begin()
    conn.execute(text("UPDATE counter SET n = n + 1"))
    conn.invalidate()  # e.g. the driver reported the connection broken
    conn.close()
    with engine.begin() as other:
        other.execute(text("UPDATE counter SET n = n + 2"))
    assert count(engine) == 2


def test_a_connection_that_writes_twice_before_going_back_does_not_wait_for_itself(engine: Engine) -> None:
    with engine.connect() as conn:
        for _ in range(3):
            conn.begin()
            conn.execute(text("UPDATE counter SET n = n + 1"))
            conn.commit()
    assert count(engine) == 3


def test_readers_do_not_wait_for_a_writer(engine: Engine) -> None:
    with Session(engine) as writer:
        writer.execute(text("UPDATE counter SET n = n + 1"))
        assert count(engine) == 0  # read while the write lock is held: answers at once
        writer.commit()
    assert count(engine) == 1
