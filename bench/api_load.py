"""Workload 4: the HTTP API under 2,000 requests at concurrency 16 from a separate load
process (bench/probes/load.py), against each system's server on SQLite, plus the
server's memory: resident set size of its whole process tree, sampled every 50 ms."""

from __future__ import annotations

import contextlib
import statistics
import sys
import threading
from typing import Any

import httpx
import psutil

from bench.context import PROBES, Context
from bench.report import Measure, Row
from bench.servers import PG_SERVER, PrefectServer, PushflowServer, Server, scratch_postgres_database, until_not_503

# Seconds each of the four phases may take (the rest of its requests are then skipped and
# the row says so): a slow server on a busy machine must not stretch the run past 20 min.
PHASE_BUDGET_SECONDS = 60

HOW = (
    "throughput counts successful responses only; latencies are of every request, errors "
    "included; "
    "{requests} requests at concurrency {concurrency} (threads, one keep-alive httpx client "
    "each) from a separate process, no retries; equal phases: create run, propose "
    "SCHEDULED->CANCELLED, read run, list newest 50"
)


class RssSampler:
    """Peak RSS (MiB) of a process and its descendants, sampled on a thread."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process and its descendants so far."""
        total = 0.0
        for proc in [self.root, *self.root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def sample(self) -> float:
        total = 0
        for proc in [self.root, *self.root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        mib = total / 2**20
        self.peak = max(self.peak, mib)
        return mib

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()


def setup_pushflow(server: PushflowServer) -> str:
    with httpx.Client(base_url=server.api_url, headers=server.headers(), timeout=30) as http:
        http.post("/pools", json={"name": "bench", "type": "process"}).raise_for_status()
        response = http.post(
            "/deployments",
            json={
                "name": "bench",
                "flow_name": "bench",
                "pool": "bench",
                "entrypoint": "bench.py:bench",
            },
        )
        response.raise_for_status()
        return str(response.json()["id"])


def setup_prefect(server: PrefectServer) -> str:
    with httpx.Client(base_url=server.api_url, timeout=30) as http:
        flow = until_not_503(lambda: http.post("/flows/", json={"name": "bench"}))
        flow.raise_for_status()
        body = {"name": "bench", "flow_id": flow.json()["id"]}
        response = until_not_503(lambda: http.post("/deployments/", json=body))
        response.raise_for_status()
        return str(response.json()["id"])


def measure(
    ctx: Context,
    system: str,
    server: Server,
    deployment: str,
    key: str,
    requests: int,
    concurrency: int,
) -> dict[str, Any]:
    assert server.proc is not None
    sampler = RssSampler(server.proc.pid)
    idle = sampler.sample()
    cpu_before = sampler.cpu_seconds()
    cmd = [
        ctx.python,
        str(PROBES / "load.py"),
        system,
        server.api_url,
        "--key",
        key,
        "--deployment",
        deployment,
        "--requests",
        str(requests),
        "--concurrency",
        str(concurrency),
        "--phase-budget",
        str(PHASE_BUDGET_SECONDS),
    ]
    with sampler:
        phases = ctx.run_json(cmd, env=ctx.pushflow_env(), timeout=1800, what="the load process")
    cpu = sampler.cpu_seconds() - cpu_before
    for name, phase in phases.items():
        if "capped" in phase:
            print(f"[bench] API load, {system}, {name}: {phase['capped']}", file=sys.stderr, flush=True)
    return {
        "phases": phases,
        "idle_mib": idle,
        "peak_mib": sampler.peak,
        "cpu_ms_per_request": cpu * 1000 / max(1, sum(p["requests"] for p in phases.values())),
        "startup_s": server.startup_seconds,
    }


def run(ctx: Context) -> list[Row]:
    rows = run_on(ctx, None)
    try:
        rows += run_on(ctx, "PostgreSQL")
    except Exception as exc:  # e.g. no PostgreSQL here: keep the SQLite rows
        ctx.failures.append(f"API load on PostgreSQL ({PG_SERVER}): {exc}")
    return rows


def run_on(ctx: Context, database: str | None) -> list[Row]:
    """The load against each system's server on SQLite (None) or a scratch PostgreSQL
    database on PG_SERVER (both servers on the same PostgreSQL)."""
    requests, concurrency = (80, 4) if ctx.quick else (2000, 16)
    how = HOW.format(requests=requests, concurrency=concurrency) + (f"; {database}" if database else "; SQLite")
    results: dict[str, dict[str, Any]] = {}
    with _database(database, "pushflow") as url, ctx.pushflow_server(url) as server:
        deployment = setup_pushflow(server)
        results["pushflow"] = measure(
            ctx,
            "pushflow",
            server,
            deployment,
            server.headers()["Authorization"].split()[1],
            requests,
            concurrency,
        )
    if ctx.peer_python:
        try:
            with _database(database, "prefect") as url, PrefectServer(ctx.peer_python, url) as peer:
                deployment = setup_prefect(peer)
                results["prefect"] = measure(ctx, "prefect", peer, deployment, "", requests, concurrency)
        except Exception as exc:  # keep pushflow's figures
            ctx.failures.append(f"API load, Prefect on {database or 'SQLite'}: {exc}")
    return rows_from(results, how, f" ({database})" if database else "")


def _database(database: str | None, system: str) -> contextlib.AbstractContextManager[str | None]:
    return scratch_postgres_database(system) if database else contextlib.nullcontext()


def rows_from(results: dict[str, dict[str, Any]], how: str, suffix: str = "") -> list[Row]:
    def row(label: str, unit: str, better: str, value: Any, **target: Any) -> Row:
        r = Row(label + suffix, unit, better, how, **target)
        for system, res in results.items():
            setattr(r, system, value(res))
        return r

    def all_latencies(res: dict[str, Any]) -> list[float]:
        return [x * 1000 for p in res["phases"].values() for x in p["latencies"]]

    def ok_rps(phase: dict[str, Any]) -> float:
        return (phase["requests"] - phase["errors"]) / phase["seconds"]

    def overall_rps(res: dict[str, Any]) -> Measure:
        phases = res["phases"].values()
        ok = sum(p["requests"] - p["errors"] for p in phases)
        return Measure.single(
            ok / sum(p["seconds"] for p in phases),
            ok_rps_per_phase={name: round(ok_rps(p), 1) for name, p in res["phases"].items()},
            all_responses_rps_per_phase={name: round(p["rps"], 1) for name, p in res["phases"].items()},
        )

    def pct(res: dict[str, Any], q: int, phase: str | None = None) -> Measure:
        data = [x * 1000 for x in res["phases"][phase]["latencies"]] if phase else all_latencies(res)
        return Measure.single(statistics.quantiles(data, n=100)[q - 1])

    def tail(res: dict[str, Any]) -> Measure:
        """p99 of every request, with each phase's p50 / p99 / slowest beside it (ms), so
        a tail can be traced to the phase that made it."""
        per_phase = {
            name: {
                "p50": round(statistics.median(p["latencies"]) * 1000, 1),
                "p99": round(statistics.quantiles(p["latencies"], n=100, method="inclusive")[98] * 1000, 1),
                "max": round(max(p["latencies"]) * 1000, 1),
            }
            for name, p in res["phases"].items()
            if len(p["latencies"]) >= 2
        }
        return Measure.single(pct(res, 99).median, latency_ms_per_phase=per_phase)

    def errors(res: dict[str, Any]) -> Measure:
        return Measure.single(
            float(sum(p["errors"] for p in res["phases"].values())),
            statuses={n: p["statuses"] for n, p in res["phases"].items()},
        )

    rows = [
        row("API throughput (successful req/s), all phases", "req/s", "higher", overall_rps, target_ratio=10),
        row(
            "API create-run throughput (successful)",
            "req/s",
            "higher",
            lambda r: Measure.single(ok_rps(r["phases"]["create"])),
        ),
        row("API latency p50, all phases", "ms", "lower", lambda r: pct(r, 50)),
        row("API latency p99, all phases", "ms", "lower", tail, target_ratio=5),
        row("API create-run latency p99", "ms", "lower", lambda r: pct(r, 99, "create")),
        row("API errors (of all requests)", "errors", "lower", errors),
        row(
            "server CPU per request (process tree, user + system)",
            "ms",
            "lower",
            lambda r: Measure.single(r["cpu_ms_per_request"]),
        ),
        row(
            "server RSS idle (process tree)",
            "MiB",
            "lower",
            lambda r: Measure.single(r["idle_mib"]),
            target_ratio=3,
        ),
        row(
            "server peak RSS under load",
            "MiB",
            "lower",
            lambda r: Measure.single(r["peak_mib"]),
            target_ratio=3,
        ),
        row(
            "server start to healthy, new database",
            "s",
            "lower",
            lambda r: Measure.single(r["startup_s"]),
        ),
    ]
    capped = [
        f"{system} {name}: {phase['capped']}"
        for system, res in results.items()
        for name, phase in res["phases"].items()
        if "capped" in phase
    ]
    if capped:
        rows[0].note = "; ".join(capped)
    errors_row = rows[5]
    errors_row.target_abs = 1  # i.e. zero errors for pushflow
    return rows
