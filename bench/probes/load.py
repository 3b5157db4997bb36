"""Probe: the API load generator, a separate process with `concurrency` threads, each with
its own keep-alive httpx client. Four phases of equal size, run one after another:
create flow runs, propose a state (SCHEDULED -> CANCELLED, a real write in both systems),
read a run, list runs (newest 50). No retries: a refused request is an error.

    python load.py pushflow http://127.0.0.1:P/api --key K --deployment ID --requests 2000
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

FAR_FUTURE = "2999-01-01T00:00:00Z"  # pushflow: keep created runs away from the dispatcher


class Api:
    """The four operations, spelled for one system."""

    def __init__(self, system: str, deployment: str) -> None:
        self.system = system
        self.deployment = deployment

    def create(self, http: httpx.Client) -> httpx.Response:
        if self.system == "pushflow":
            return http.post(f"/deployments/{self.deployment}/runs", json={"scheduled_start_time": FAR_FUTURE})
        return http.post(f"/deployments/{self.deployment}/create_flow_run", json={})

    def propose(self, http: httpx.Client, run_id: str) -> httpx.Response:
        state = {"type": "CANCELLED", "message": "bench"}
        if self.system == "pushflow":
            return http.post(f"/flow-runs/{run_id}/state", json={"state": state})
        return http.post(f"/flow_runs/{run_id}/set_state", json={"state": state})

    def read(self, http: httpx.Client, run_id: str) -> httpx.Response:
        path = "flow-runs" if self.system == "pushflow" else "flow_runs"
        return http.get(f"/{path}/{run_id}")

    def list_runs(self, http: httpx.Client) -> httpx.Response:
        if self.system == "pushflow":
            return http.get("/flow-runs", params={"limit": 50})
        return http.post("/flow_runs/filter", json={"limit": 50, "sort": "ID_DESC"})


def run_phase(
    clients: list[httpx.Client],
    count: int,
    op: Callable[[httpx.Client, int], httpx.Response],
    budget: float | None = None,
) -> tuple[dict[str, Any], list[httpx.Response | None]]:
    """`count` requests, fewer if `budget` seconds run out first (requests not yet sent
    then are skipped, and the phase says it was capped)."""
    local = threading.local()
    pool_ids = itertools.count()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    responses: list[httpx.Response | None] = [None] * count
    lock = threading.Lock()

    def one(i: int) -> None:
        if budget is not None and time.perf_counter() - started > budget:
            return
        if not hasattr(local, "client"):
            with lock:
                local.client = clients[next(pool_ids)]
        start = time.perf_counter()
        try:
            response = op(local.client, i)
            key = str(response.status_code)
            responses[i] = response
        except httpx.HTTPError as exc:
            key = type(exc).__name__
        elapsed = time.perf_counter() - start
        with lock:
            latencies.append(elapsed)
            statuses[key] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(len(clients)) as executor:
        list(executor.map(one, range(count)))
    wall = time.perf_counter() - started
    errors = sum(n for k, n in statuses.items() if not (k.isdigit() and int(k) < 400))
    sent = len(latencies)
    capped = {"capped": f"time cap {budget:g} s: {sent} of {count} requests"} if sent < count else {}
    return {
        **capped,
        "requests": sent,
        "seconds": wall,
        "rps": sent / wall,
        "errors": errors,
        "statuses": dict(statuses),
        "latencies": latencies,
    }, responses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("system", choices=["pushflow", "prefect"])
    parser.add_argument("url")
    parser.add_argument("--key", default="")
    parser.add_argument("--deployment", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--phase-budget", type=float, default=None, help="seconds per phase at most")
    args = parser.parse_args()
    budget = args.phase_budget
    api = Api(args.system, args.deployment)
    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    clients = [httpx.Client(base_url=args.url, headers=headers, timeout=60) for _ in range(args.concurrency)]
    per_phase = args.requests // 4
    try:
        # A few runs made one at a time, so later phases have runs even if creates fail.
        seed = [_run_id(api.create(clients[0])) for _ in range(args.concurrency)]
        phases: dict[str, dict[str, Any]] = {}
        phases["create"], created = run_phase(clients, per_phase, lambda c, i: api.create(c), budget)
        run_ids = [i for i in (_run_id(r) for r in created if r is not None) if i] + [i for i in seed if i]
        propose = lambda c, i: api.propose(c, run_ids[i % len(run_ids)])  # noqa: E731
        phases["propose"], _ = run_phase(clients, per_phase, propose, budget)
        phases["read"], _ = run_phase(clients, per_phase, lambda c, i: api.read(c, run_ids[i % len(run_ids)]), budget)
        phases["list"], _ = run_phase(clients, per_phase, lambda c, i: api.list_runs(c), budget)
    finally:
        for client in clients:
            client.close()
    print(json.dumps(phases))


def _run_id(response: httpx.Response) -> str | None:
    if response.status_code >= 400:
        return None
    return str(response.json()["id"])


if __name__ == "__main__":
    main()
