"""The event stream under concurrent writers on PostgreSQL: a reader paging with the
cursor while runs are created and finish in several processes sees every event exactly
once, in commit order. (With ids from a sequence alone a transaction that took id N can
commit after one that took N+1; a reader that saw N+1 would skip N for good.)"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from control_plane.app import create_app
from control_plane.db import create_db_engine, migrate
from control_plane.events import Event
from control_plane.settings import Settings
from tests.control_plane import counting_pool

WRITERS = 6
RUNS_EACH = 25
KEY = "stream-key"


@pytest.fixture
def client(pg_schema_url: str, tmp_path: Path) -> Iterator[TestClient]:
    engine = create_db_engine(pg_schema_url)
    migrate(engine)
    engine.dispose()
    counting_pool.register()
    settings = Settings(
        home=tmp_path,
        database_url=pg_schema_url,
        api_key=KEY,
        server_secret="stream-secret",
        run_loops=False,
        dispatch_on_trigger=False,
    )
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {KEY}"}) as api:
        yield api


def test_a_reader_paging_during_writes_sees_every_event_once_in_commit_order(
    client: TestClient,
    pg_schema_url: str,
    tmp_path: Path,
    reap: Callable[[subprocess.Popen[str]], subprocess.Popen[str]],
) -> None:
    count_file = tmp_path / "submissions.txt"
    pool = {"name": "counting", "type": "counting", "defaults": {"count_file": str(count_file)}}
    client.post("/api/pools", json=pool).raise_for_status()
    body = {"name": "d", "flow_name": "f", "entrypoint": "f.py:f", "pool": "counting"}
    deployment = client.post("/api/deployments", json=body).json()
    start = tmp_path / "start"
    writers = [
        reap(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.control_plane.event_writer",
                    pg_schema_url,
                    str(start),
                    str(tmp_path / str(n)),
                    deployment["id"],
                    str(RUNS_EACH),
                ],
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        for n in range(WRITERS)
    ]
    seen: list[dict] = []
    pages = 0
    cursor = "0"
    started = time.monotonic()
    start.touch()

    def read_page() -> int:
        nonlocal cursor, pages
        page = client.get("/api/events", params={"after": cursor, "limit": 25}).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        pages += 1
        return len(page["items"])

    while any(w.poll() is None for w in writers):
        read_page()
    while read_page():  # the writers are done: drain what is left
        pass
    seconds = time.monotonic() - started
    for writer in writers:
        _, err = writer.communicate()
        assert writer.returncode == 0, err

    engine = create_db_engine(pg_schema_url)
    with Session(engine) as session:
        stored = list(session.exec(select(Event.id).order_by(col(Event.id))))
    engine.dispose()
    ids = [e["id"] for e in seen]
    runs = WRITERS * RUNS_EACH
    print(
        f"\nevent stream: {WRITERS} writer processes, {runs} runs, {len(stored)} events committed; reader read "
        f"{len(ids)} in {pages} pages of <=25 while writing, {seconds:.1f}s; "
        f"{len(ids) - len(set(ids))} repeated, {len(set(stored) - set(ids))} missed"
    )
    assert ids == stored  # every committed event, once, in id (= commit) order
    timelines: dict[str, list[tuple[str | None, str]]] = defaultdict(list)
    for e in seen:
        if e["event"].startswith("pushflow.flow-run."):
            frm = e["payload"]["from"]
            timelines[e["payload"]["flow_run_id"]].append((frm and frm["name"], e["payload"]["to"]["name"]))
    assert len(timelines) == runs
    assert {tuple(t) for t in timelines.values()} == {
        (
            (None, "Scheduled"),
            ("Scheduled", "Submitting"),
            ("Submitting", "InfrastructurePending"),
            ("InfrastructurePending", "Running"),
            ("Running", "Completed"),
        )
    }
