"""On SQLite, reads never queue behind a writer (the cause of a ~1 s API p99 under load)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from control_plane.local import create_local_app
from control_plane.settings import Settings


@pytest.fixture
def sqlite_api(tmp_path: Path) -> Iterator[Any]:
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", api_key="k", run_loops=False)
    with TestClient(create_local_app(settings), headers={"Authorization": "Bearer k"}) as client:
        client.post("/api/pools", json={"name": "local", "type": "process"}).raise_for_status()
        yield client


def test_reads_answer_while_another_writer_holds_the_lock(sqlite_api: Any, tmp_path: Path) -> None:
    writer = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process mid-write
        assert sqlite_api.get("/api/pools/local").status_code == 200
        assert sqlite_api.get("/api/flow-runs").status_code == 200
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    # and writes still go through once the lock is free
    assert sqlite_api.patch("/api/pools/local", json={"paused": True}).status_code == 200
