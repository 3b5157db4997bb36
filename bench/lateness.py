"""Workload: scheduled-run lateness, locally. A deployment of an empty flow on a 2-second
interval schedule, left to each system's own scheduler for a fixed time; then, per run
that came due in that window, how late it was submitted and how late it started.

pushflow: `pushflow server start` (its one loop: schedule, dispatch) and the `process`
push pool; submitted = the attempt's `submitted` time (the pool accepted it).
Prefect: `prefect server start` (its scheduler service, loop lowered to 5 s in its favour)
and `flow.serve(interval=2)` with PREFECT_RUNNER_POLL_FREQUENCY=1 (as in the trigger
row); submitted = the run's Pending state (the runner took it and starts its process).
Both: started = the run's `start_time` (RUNNING, reported from the flow's process).
Lateness = that time - the run's expected start; p50 and p99 over the window's runs
(with about 20 runs, p99 is the worst one)."""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.context import PROBES, Context
from bench.report import Measure, Row
from bench.servers import PrefectServer, spawn, stop

INTERVAL = 2.0
HOW = (
    f"a deployment on a {INTERVAL:g} s interval schedule, left to each system's scheduler; per run due in "
    "the window, (submitted | RUNNING) - expected start. pushflow: server loop + process pool, submitted = "
    "the attempt's submit time. Prefect: scheduler service (loop 5 s) + flow.serve() runner polling every "
    "1 s, submitted = its Pending state"
)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def pushflow_lateness(ctx: Context, window: float) -> dict[str, list[float]]:
    with (
        ctx.pushflow_server() as server,
        httpx.Client(base_url=server.api_url, headers=server.headers(), timeout=30) as http,
    ):
        http.post("/pools", json={"name": "local", "type": "process"}).raise_for_status()
        body = {
            "name": "lateness",
            "flow_name": "empty",
            "pool": "local",
            "entrypoint": f"{PROBES / 'pushflow_work.py'}:empty",
            "working_dir": str(PROBES),
            "schedules": [{"interval_seconds": INTERVAL}],
        }
        deployment = http.post("/deployments", json=body)
        deployment.raise_for_status()
        dep_id = deployment.json()["id"]
        opened = time.time()
        time.sleep(window)
        closed = time.time()
        http.patch(f"/deployments/{dep_id}", json={"paused": True}).raise_for_status()
        time.sleep(3)  # let the last runs report RUNNING
        runs = http.get("/flow-runs", params={"deployment_id": dep_id, "limit": 200}).json()
        items = runs["items"] if isinstance(runs, dict) else runs
        submitted, started = [], []
        for run in items:
            due = _time(run["expected_start_time"])
            if not opened + INTERVAL <= due.timestamp() <= closed:
                continue
            attempts = http.get(f"/flow-runs/{run['id']}/attempts").json()
            attempts = attempts["items"] if isinstance(attempts, dict) else attempts
            if attempts:
                submitted.append((_time(attempts[0]["submitted"]) - due).total_seconds())
            if run.get("start_time"):
                started.append((_time(run["start_time"]) - due).total_seconds())
        return {"submitted": submitted, "started": started}


class _PrefectScheduling(PrefectServer):
    def env(self) -> dict[str, str]:  # its scheduler every 5 s (default 60 s): in its favour
        loop = ("PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS", "PREFECT_API_SERVICES_SCHEDULER_LOOP_SECONDS")
        return {**super().env(), **dict.fromkeys(loop, "5")}


def prefect_lateness(ctx: Context, window: float) -> dict[str, list[float]]:
    assert ctx.peer_python is not None
    with (
        _PrefectScheduling(ctx.peer_python) as server,
        httpx.Client(base_url=server.api_url, timeout=30) as http,
    ):
        env = ctx.prefect_env(**server.client_env(), PREFECT_RUNNER_POLL_FREQUENCY="1")
        runner = spawn(
            [str(ctx.peer_python), str(PROBES / "prefect_serve.py"), "--interval", str(INTERVAL)],
            env=env,
            log=server.home / "serve.log",
            cwd=str(PROBES),
        )
        try:
            _wait_deployment(http, runner, server.home / "serve.log")
            opened = time.time()
            time.sleep(window)
            closed = time.time()
        finally:
            stop(runner)
        body = {"flow_runs": {"expected_start_time": {"after_": _iso(opened + INTERVAL), "before_": _iso(closed)}}}
        runs = http.post("/flow_runs/filter", json={**body, "limit": 200}).json()
        submitted, started = [], []
        for run in runs:
            due = _time(run["expected_start_time"])
            states = http.get("/flow_run_states/", params={"flow_run_id": run["id"]}).json()
            pending = [s for s in states if s["type"] == "PENDING"]
            if pending:
                submitted.append((_time(pending[0]["timestamp"]) - due).total_seconds())
            if run.get("start_time"):
                started.append((_time(run["start_time"]) - due).total_seconds())
        return {"submitted": submitted, "started": started}


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).astimezone().isoformat()


def _wait_deployment(http: httpx.Client, runner: Any, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if runner.poll() is not None:
            raise RuntimeError(f"prefect serve exited:\n{log.read_text()[-3000:]}")
        if http.get("/deployments/name/empty/bench").status_code == 200:
            return
        time.sleep(0.2)
    raise RuntimeError("prefect serve did not register its deployment in time")


def _rows(results: dict[str, dict[str, list[float]] | None]) -> list[Row]:
    rows = []
    for key, label, target in (("submitted", "due → submitted", 1.0), ("started", "due → RUNNING", None)):
        for index, name in ((0, "p50"), (1, "p99")):
            row = Row(
                f"scheduled-run lateness {name}, {label}, local",
                "s",
                "lower",
                HOW,
                target_abs=target if name == "p99" else None,
            )
            for system, result in results.items():
                if result is None or not result[key]:
                    continue
                samples = result[key]
                value = _percentiles(samples)[index]
                setattr(row, system, Measure(value, min(samples), max(samples), len(samples)))
            rows.append(row)
    return rows


def run(ctx: Context) -> list[Row]:
    window = 10.0 if ctx.quick else 40.0
    results: dict[str, dict[str, list[float]] | None] = {"pushflow": pushflow_lateness(ctx, window), "prefect": None}
    failure: Exception | None = None
    if ctx.peer_python:
        try:
            results["prefect"] = prefect_lateness(ctx, window)
        except Exception as exc:  # keep pushflow's figures; the table says what failed
            failure = exc
    rows = _rows(results)
    if failure is not None:
        for row in rows:
            ctx.failed(row, "prefect", failure)
    return rows
