"""Events and event-driven runs on a local server (SQLite, or PostgreSQL with --pg):

- ingest throughput: POST /api/events one event per request, and 100 per request;
- webhook answer time: a signed Standard Webhooks POST to /hooks/{slug} until its 204;
- webhook → run latency: from sending the signed webhook to the `created` time of the run
  its automation started (run-deployment; the pool is paused so no process is spawned and
  the figure is the event path alone: ingest, wake, evaluate, action, run insert).

    python -m bench.events [--pg] [--hooks 60]

Short runs: this machine has 2 cores shared with other sessions; read the figures as
orders of magnitude.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import statistics
import time
from datetime import datetime, timezone

import httpx

from bench.servers import PushflowServer, scratch_postgres_database
from control_plane.signatures import standard_headers


def quantiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms (n={len(ordered)})"


def ingest(http: httpx.Client, singles: int, batches: int) -> None:
    event = {"event": "bench.thing.happened", "resource": {"id": "bench.thing"}, "payload": {"n": 1}}
    started = time.perf_counter()
    for _ in range(singles):
        http.post("/events", json=event).raise_for_status()
    single_rate = singles / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(batches):
        http.post("/events", json=[event] * 100).raise_for_status()
    batch_rate = batches * 100 / (time.perf_counter() - started)
    print(f"ingest: {single_rate:.0f} events/s one per request ({singles}); {batch_rate:.0f} events/s 100 per request")


def webhook_to_run(http: httpx.Client, base: str, hooks: int) -> None:
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    http.post("/pools", json={"name": "held", "type": "process", "paused": True}).raise_for_status()
    deployment = http.post(
        "/deployments", json={"name": "bench", "flow_name": "bench", "entrypoint": "x.py:bench", "pool": "held"}
    ).json()
    hook = http.post(
        "/webhooks",
        json={
            "name": "bench",
            "signature": "standard-webhooks",
            "secret": secret,
            "template": '{"event": "bench.order", "resource": {"id": "bench.order.{{ body.n }}"}, '
            '"payload": {"n": {{ body.n }}}}',
        },
    ).json()
    http.post(
        "/automations",
        json={
            "name": "bench",
            "trigger": {"expect": ["bench.order"]},
            "actions": [
                {"type": "run-deployment", "deployment": deployment["id"], "parameters": {"n": "{{ event.payload.n }}"}}
            ],
        },
    ).raise_for_status()
    answers, latencies = [], []
    for n in range(hooks):
        body = json.dumps({"n": n}).encode()
        headers = {"Content-Type": "application/json", **standard_headers(secret, f"msg_{n}", body)}
        sent = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        httpx.post(base + hook["path"], content=body, headers=headers).raise_for_status()
        answers.append(time.perf_counter() - t0)
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline:
            runs = http.get("/flow-runs", params={"deployment_id": deployment["id"], "limit": 50}).json()["items"]
            mine = [r for r in runs if r["parameters"].get("n") == n]
            if mine:
                created = datetime.fromisoformat(mine[0]["created"].replace("Z", "+00:00"))
                latencies.append((created - sent).total_seconds())
                break
            time.sleep(0.005)
        else:
            raise RuntimeError(f"webhook {n}: no run within 30 s")
    print(f"webhook 204: {quantiles(answers)}")
    print(f"webhook -> run created: {quantiles(latencies)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", action="store_true", help="a scratch PostgreSQL database (default SQLite)")
    parser.add_argument("--hooks", type=int, default=60)
    parser.add_argument("--singles", type=int, default=300)
    parser.add_argument("--batches", type=int, default=20)
    args = parser.parse_args()
    os.environ["PUSHFLOW_EVENT_RATE_LIMIT"] = "1000000"
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(scratch_postgres_database("pushflow")) if args.pg else None
        server = stack.enter_context(PushflowServer(database))
        print(f"pushflow server on {'PostgreSQL' if args.pg else 'SQLite'}")
        with httpx.Client(base_url=server.api_url, headers=server.headers(), timeout=30) as http:
            ingest(http, args.singles, args.batches)
            webhook_to_run(http, server.api_url.removesuffix("/api"), args.hooks)


if __name__ == "__main__":
    main()
