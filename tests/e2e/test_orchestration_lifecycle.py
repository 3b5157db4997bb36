"""The run lifecycle end to end: a real server process, the process pool, real
`pushflow execute` children — crash recovery, cancellation, schedules on time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import FLOWS
from tests.helpers import LiveServer, wait_for

TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def deploy(api: httpx.Client, entrypoint: str, **extra: Any) -> dict:
    api.post("/api/pools", json={"name": "local", "type": "process", **extra.pop("pool", {})})
    body = {
        "name": "e2e",
        "flow_name": entrypoint.split(":")[1],
        "entrypoint": entrypoint,
        "working_dir": str(FLOWS),
        "pool": "local",
        **extra,
    }
    response = api.post("/api/deployments", json=body)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def states(api: httpx.Client, ids: list[str]) -> dict[str, str]:
    return {i: api.get(f"/api/flow-runs/{i}").json()["state"]["type"] for i in ids}


def restart_on_same_port(old: LiveServer) -> LiveServer:
    """A new server process with the old one's home and port (runs call back to it)."""
    new = LiveServer(old.home, extra_env={"PUSHFLOW_SUBMIT_TIMEOUT": "2"})
    new.port, new.url = old.port, old.url
    new.env["PUSHFLOW_API_URL"] = old.url
    return new.start()


def test_killing_the_control_plane_loses_and_doubles_no_run(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "home", extra_env={"PUSHFLOW_SUBMIT_TIMEOUT": "2"}).start()
    restarted = None
    try:
        api = server.client()
        deployment = deploy(api, "recorded.py:recorded")
        log_file = tmp_path / "starts.txt"
        runs = [
            api.post(
                f"/api/deployments/{deployment['id']}/runs",
                json={"parameters": {"log_file": str(log_file), "seconds": 4}},
            ).json()
            for _ in range(5)
        ]
        later = time.time() + 2  # and some that only become due while the server is down
        runs += [
            api.post(
                f"/api/deployments/{deployment['id']}/runs",
                json={"parameters": {"log_file": str(log_file), "seconds": 1}, "scheduled_start_time": _iso(later)},
            ).json()
            for _ in range(2)
        ]
        ids = [r["id"] for r in runs]
        wait_for(lambda: list(states(api, ids).values()).count("RUNNING") >= 3, timeout=60, what="runs in flight")
        assert server.process is not None
        server.process.kill()  # SIGKILL: no shutdown, no cleanup
        server.process.wait()
        restarted = restart_on_same_port(server)
        api = restarted.client()
        final = wait_for(lambda: _all_final(api, ids), timeout=90, what="every run to finish after the restart")
        assert set(final.values()) == {"COMPLETED"}, final
        starts = log_file.read_text().split()
        assert sorted(starts) == sorted(ids)  # each run started exactly once
        for run_id in ids:  # one submission each
            assert [a["number"] for a in api.get(f"/api/flow-runs/{run_id}/attempts").json()] == [1]
    finally:
        (restarted or server).stop()
        server.stop()


def test_cancel_from_the_cli_stops_the_process_and_runs_the_cancellation_hooks(
    server: LiveServer, tmp_path: Path
) -> None:
    api = server.client()
    deployment = deploy(api, "recorded.py:cancellable")
    log_file = tmp_path / "starts.txt"
    run = api.post(f"/api/deployments/{deployment['id']}/runs", json={"parameters": {"log_file": str(log_file)}}).json()
    wait_for(lambda: log_file.exists(), timeout=60, what="the flow to start")
    pid = int(api.get(f"/api/flow-runs/{run['id']}").json()["infrastructure"]["id"])
    env = {**os.environ, "PUSHFLOW_API_URL": server.url, "PUSHFLOW_API_KEY": server.api_key}
    result = subprocess.run(
        [sys.executable, "-m", "pushflow_cli", "runs", "cancel", run["id"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    final = wait_for(
        lambda: (r := api.get(f"/api/flow-runs/{run['id']}").json())["state"]["type"] in TERMINAL and r,
        timeout=30,
        what="the run to be cancelled",
    )
    assert final["state"]["type"] == "CANCELLED"
    assert Path(str(log_file) + ".cancelled").read_text() == "CANCELLED"  # on_cancellation ran
    wait_for(lambda: not _alive(pid), timeout=15, what=f"process {pid} to be gone")


def test_scheduled_runs_start_within_a_second_of_their_time(tmp_path: Path) -> None:
    # A slow tick: only waking at the due time can start runs on time.
    server = LiveServer(tmp_path / "home", extra_env={"PUSHFLOW_LOOP_INTERVAL": "5"}).start()
    try:
        api = server.client()
        starts = tmp_path / "starts.jsonl"
        note = (
            f"import json, os, time; open({str(starts)!r}, 'a').write(json.dumps("
            "{'run': os.environ['PUSHFLOW_FLOW_RUN_ID'], 'at': time.time()}) + '\\n')"
        )
        deployment = deploy(
            api,
            "recorded.py:recorded",
            pool={"defaults": {"command": [sys.executable, "-c", note]}},
            schedules=[{"interval_seconds": 2}],
        )
        assert len(deployment["schedules"]) == 1
        lines = wait_for(
            lambda: (
                len(starts.read_text().splitlines()) >= 3 and starts.read_text().splitlines()
                if starts.exists()
                else None
            ),
            timeout=30,
            what="three scheduled runs to start",
        )
        for line in lines[:3]:
            record = json.loads(line)
            run = api.get(f"/api/flow-runs/{record['run']}").json()
            scheduled = _epoch(run["expected_start_time"])
            assert 0 <= record["at"] - scheduled < 1.0, (record, run["expected_start_time"])
    finally:
        server.stop()


def _all_final(api: httpx.Client, ids: list[str]) -> dict[str, str] | None:
    current = states(api, ids)
    return current if set(current.values()) <= TERMINAL else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] != "Z"


def _iso(epoch: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()
