"""A write that loses a race at the database's constraints is answered 409, saying what
happened, never 500. Deterministic on PostgreSQL: the competing row is inserted by a
transaction the test holds open, so the API's own check does not see it and its INSERT
waits on the unique index until the test commits."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from sqlmodel import Session

from control_plane.db import create_db_engine
from control_plane.models import Pool
from tests.databases import driver_url


def _blocked_by(raw_url: str, pid: int) -> bool:
    """Whether some backend waits on a lock `pid` holds."""
    with psycopg.connect(raw_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [pid]
        ).fetchone()
    return bool(row and row[0])


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_creating_a_pool_another_request_is_creating_answers_409(api: Any, database_url: str) -> None:
    engine = create_db_engine(database_url)
    rival = Session(engine)
    rival.add(Pool(name="race", type="process"))
    rival.flush()  # the row exists, uncommitted: the API's check cannot see it
    rival_pid = rival.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    answer: dict[str, Any] = {}
    request = threading.Thread(
        target=lambda: answer.update(r=api.post("/api/pools", json={"name": "race", "type": "process"}))
    )
    request.start()
    raw = driver_url(database_url.split("?")[0])
    deadline = time.monotonic() + 30
    while not _blocked_by(raw, rival_pid) and request.is_alive():
        assert time.monotonic() < deadline, "the API's INSERT never waited on the rival row"
    rival.commit()
    rival.close()
    request.join(timeout=30)
    response = answer["r"]
    assert response.status_code == 409, response.text
    assert "another request stored the same thing at the same moment" in response.json()["detail"]
    assert api.get("/api/pools/race").json()["type"] == "process"  # the rival's pool, intact
    engine.dispose()
