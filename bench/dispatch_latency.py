"""Dispatch latency, trigger to submit: how long from the create-run request until the
pool accepted the run, with the loop off (dispatch in the request: Lambda, replicas),
with the loop on (the default local server), and with the loop on but dispatch on
trigger off (the loop woken by the request does it; the old path).

    python bench/dispatch_latency.py [--runs 10]

Each config is a real `pushflow server start` (SQLite) with the process pool. "submit"
is read from the run's own timeline (GET /api/flow-runs/{id}/events): the time between
its `Scheduled` and `InfrastructurePending` events, both written by the server. Short
runs only on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROBES = Path(__file__).resolve().parent / "probes"
CONFIGS = {
    "loops off (dispatch in the request)": {"PUSHFLOW_RUN_LOOPS": "false"},
    "loops on (dispatch in the request)": {},
    "loops on, dispatch on trigger off (loop woken)": {"PUSHFLOW_DISPATCH_ON_TRIGGER": "false"},
}


def submitted_after(api, run_id: str, timeout: float = 30) -> float:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = {e["payload"]["to"]["name"]: e["occurred"] for e in api.get(f"/api/flow-runs/{run_id}/events").json()}
        if "InfrastructurePending" in events:
            start = datetime.fromisoformat(events["Scheduled"])
            return (datetime.fromisoformat(events["InfrastructurePending"]) - start).total_seconds()
        time.sleep(0.02)
    raise RuntimeError(f"run {run_id} was not submitted within {timeout}s")


def measure(env: dict[str, str], runs: int) -> dict:
    from tests.helpers import LiveServer, final

    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "home", extra_env=env).start()
        try:
            api = server.client()
            api.post("/api/pools", json={"name": "local", "type": "process"}).raise_for_status()
            body = {
                "name": "bench",
                "flow_name": "empty",
                "pool": "local",
                "entrypoint": f"{PROBES / 'pushflow_work.py'}:empty",
                "working_dir": str(PROBES),
            }
            deployment = api.post("/api/deployments", json=body).json()
            submit, answer = [], []
            for _ in range(runs):
                t0 = time.perf_counter()
                run = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
                answer.append(time.perf_counter() - t0)
                submit.append(submitted_after(api, run["id"]))
                final(api, run)  # one at a time: the numbers are latency, not throughput
        finally:
            server.stop()
    return {
        "submit_median_ms": round(statistics.median(submit) * 1000, 1),
        "submit_max_ms": round(max(submit) * 1000, 1),
        "response_median_ms": round(statistics.median(answer) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps({name: measure(env, args.runs) for name, env in CONFIGS.items()}, indent=2))


if __name__ == "__main__":
    main()
