"""Trigger → COMPLETED, phase by phase (the `trigger` row of `python -m bench`, taken apart).

    python -m bench.trigger_phases [--runs 7] [--flow empty] [--parameters '{}']

Starts a server with a `process` pool whose runs start bench/probes/timed_execute.py (what
`pushflow execute` does, with timestamps), triggers --runs runs one after another after a
warm-up, polls each every 20 ms as the bench row does, and prints, in ms from the create
request: when it answered, when the child process started, reached its entry point, ended
its imports, started its first request, had RUNNING accepted, exited, and when the poll saw
COMPLETED; then the child's CPU time and the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.context import PROBES
from bench.servers import PushflowServer

COLUMNS = ("answered", "started", "reached", "imported", "first request", "running", "exited", "seen", "cpu")


def trigger(http: httpx.Client, deployment_id: str, out: Path) -> dict[str, float]:
    begun = time.time()
    run_id = http.post(f"/deployments/{deployment_id}/runs", json={}).json()["id"]
    answered = time.time()
    while http.get(f"/flow-runs/{run_id}").json()["state"]["type"] != "COMPLETED":
        time.sleep(0.02)
    seen = time.time()
    path = out / f"{run_id}.json"
    while not path.exists():  # the child writes it at exit, maybe after the poll saw COMPLETED
        time.sleep(0.01)
    phases = json.loads(path.read_text())
    requests = phases["requests"]
    at = {
        "answered": answered,
        "started": phases["started"],
        "reached": phases["reached"],
        "imported": phases["imported"],
        "first request": requests[0][2],
        "running": next(end for method, path, _, end in requests if (method, path) == ("POST", "state")),
        "exited": phases["exited"],
        "seen": seen,
    }
    row = {name: (value - begun) * 1000 for name, value in at.items()}
    row["cpu"] = phases["cpu"] * 1000
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--flow", default="empty", help="a flow in bench/probes/pushflow_work.py")
    parser.add_argument("--parameters", default="{}", help="the deployment's parameters, as JSON")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as out,
        PushflowServer() as server,
        httpx.Client(base_url=server.api_url, headers=server.headers(), timeout=30) as http,
    ):
        http.post("/pools", json={"name": "local", "type": "process"}).raise_for_status()
        job = {"command": [sys.executable, str(PROBES / "timed_execute.py")], "env": {"PUSHFLOW_BENCH_PHASES": out}}
        deployment = http.post(
            "/deployments",
            json={
                "name": "phases",
                "flow_name": args.flow,
                "pool": "local",
                "entrypoint": f"{PROBES / 'pushflow_work.py'}:{args.flow}",
                "working_dir": str(PROBES),
                "parameters": json.loads(args.parameters),
                "job_variables": job,
            },
        )
        deployment.raise_for_status()
        trigger(http, deployment.json()["id"], Path(out))  # warm-up
        rows = [trigger(http, deployment.json()["id"], Path(out)) for _ in range(args.runs)]
    print("  ".join(f"{c:>13}" for c in COLUMNS))
    for row in rows:
        print("  ".join(f"{row[c]:13.0f}" for c in COLUMNS))
    print("  ".join(f"{statistics.median(r[c] for r in rows):13.0f}" for c in COLUMNS), " (medians, ms)")


if __name__ == "__main__":
    main()
