"""Four control-plane processes running the automation passes at once on one PostgreSQL
database, 500 triggering events: each firing recorded once, each action run once."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from control_plane.automations.models import AutomationActionRun, AutomationFiring
from control_plane.local import create_local_app
from control_plane.settings import Settings
from tests.automations.receiver import Receiver

EVENTS = 500
PROCESSES = 4
SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


# The workers give up after 150 s (evaluator_worker.py); on a loaded 2-core machine the
# whole test can take minutes, so its own limit is above theirs, not the suite's 120 s.
@pytest.mark.timeout(240)
def test_four_concurrent_evaluators_run_each_action_once(
    pg_schema_url: str, tmp_path: Path, reap: Callable[[subprocess.Popen[str]], subprocess.Popen[str]]
) -> None:
    # Only the four workers evaluate: nothing in the requests that bring the events.
    settings = Settings(
        home=tmp_path / "home", database_url=pg_schema_url, api_key="k", run_loops=False, dispatch_on_trigger=False
    )
    with (
        Receiver(SECRET) as receiver,
        TestClient(create_local_app(settings), headers={"Authorization": "Bearer k"}) as api,
    ):
        api.post(
            "/api/automations",
            json={
                "name": "each-order",
                "trigger": {"expect": ["acme.order.placed"]},
                "actions": [
                    {
                        "type": "call-webhook",
                        "url": receiver.url,
                        "secret": SECRET,
                        "body": '{"n": {{ event.payload.n }}}',
                    }
                ],
            },
        ).raise_for_status()
        for start in range(0, EVENTS, 100):
            batch = [
                {"event": "acme.order.placed", "resource": {"id": f"acme.order.{n}"}, "payload": {"n": n}}
                for n in range(start, start + 100)
            ]
            api.post("/api/events", json=batch).raise_for_status()
        start_file = tmp_path / "start"
        workers = [
            reap(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "tests.automations.evaluator_worker",
                        pg_schema_url,
                        str(start_file),
                        str(EVENTS),
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
            for _ in range(PROCESSES)
        ]
        start_file.touch()
        reports = []
        for worker in workers:
            out, err = worker.communicate(timeout=200)
            assert worker.returncode == 0, err[-3000:]
            reports.append(json.loads(out.strip().splitlines()[-1]))
        engine = api.app.state.services.engine
        with Session(engine) as session:
            firings = session.exec(select(AutomationFiring)).all()
            actions = session.exec(select(AutomationActionRun)).all()
    print(f"\nconcurrent evaluators: {reports}")
    assert sum(r["fired"] for r in reports) == EVENTS
    assert len(firings) == EVENTS
    assert sorted(f.event["payload"]["n"] for f in firings if f.event) == list(range(EVENTS))
    assert Counter(a.status for a in actions) == {"succeeded": EVENTS}
    assert {a.attempts for a in actions} == {1}
    assert sum(r["ran"] for r in reports) == EVENTS
    assert len(receiver.received) == EVENTS
    assert len({d["id"] for d in receiver.received}) == EVENTS
    assert all(d["verified"] for d in receiver.received)
    assert sorted(d["body"]["n"] for d in receiver.received) == list(range(EVENTS))
