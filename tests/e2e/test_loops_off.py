"""Where no loop runs (Lambda, replicas: `PUSHFLOW_RUN_LOOPS=false`) the request that
creates a run submits it, and the request that cancels a run stops its infrastructure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_spine import deploy
from tests.helpers import LiveServer, final, trigger, wait_for


@pytest.fixture(scope="module")
def loopless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("loopless") / "home"
    live = LiveServer(home, extra_env={"PUSHFLOW_RUN_LOOPS": "false"}).start()
    try:
        yield live
    finally:
        live.stop()


def test_a_run_triggered_over_http_completes_with_the_loops_off(loopless: LiveServer) -> None:
    api = loopless.client()
    run = trigger(api, deploy(api, "etl.py:etl"), n=2)
    assert run["state"]["type"] == "PENDING"  # submitted before the answer
    assert run["infrastructure"]["provider"] == "process" and run["infrastructure"]["id"]
    done = final(api, run)
    assert done["state"]["type"] == "COMPLETED"
    assert done["run_count"] == 1


def test_a_cancel_stops_the_run_with_the_loops_off(loopless: LiveServer, tmp_path: Path) -> None:
    api = loopless.client()
    deployment = deploy(api, "recorded.py:cancellable")
    log_file = tmp_path / "starts.txt"
    run = trigger(api, deployment, log_file=str(log_file))
    wait_for(lambda: log_file.exists(), timeout=60, what="the flow to start")
    response = api.post(f"/api/flow-runs/{run['id']}/cancel")
    assert response.status_code == 200, response.text
    assert final(api, run, timeout=30)["state"]["type"] == "CANCELLED"
    assert Path(str(log_file) + ".cancelled").read_text() == "CANCELLED"  # on_cancellation ran
