"""Dispatch throughput on PostgreSQL: due runs claimed and handed to the process adapter
per second, with 1 and several dispatcher processes, and a check that none was submitted
twice.

    python bench/dispatch.py [--runs 2000] [--dispatchers 1,4] [--adapter process|noop|slow]
                             [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]

`process` (default): each run is a real `process` pool submission (fork/exec of `true`,
pid and log files), so the figure includes the adapter's own cost. `noop`: the process
pool's job handling with a submit that returns at once (the control plane's own cost).
`slow`: a submit that takes 100 ms, like a cloud API (how far parallel submits carry).
A fresh schema per measurement, dropped after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


SUBMIT_SECONDS = {"noop": 0.0, "slow": 0.1}
TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu(pids: set[int]) -> float:
    """CPU seconds the PostgreSQL backends serving this dispatcher have used (the server
    runs on this machine: /proc/<pid>/stat, utime + stime)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # not readable here (another user, another host): not counted
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def bench_adapters(adapter: str) -> object:
    """The control plane's adapter registry, or one whose every pool submits in a fixed
    time and records each run id it was given (to count duplicates)."""
    from control_plane.services import PoolAdapters
    from push_pools.base import InfraRef
    from push_pools.process import ProcessPool

    if adapter == "process":
        return PoolAdapters()
    delay = SUBMIT_SECONDS[adapter]

    class TimedPool(ProcessPool):
        submitted: list[str] = []

        def submit(self, run, job, *, timeout=30.0):  # type: ignore[no-untyped-def]
            if delay:
                time.sleep(delay)
            self.submitted.append(run.run_id)
            return InfraRef(provider="process", id=f"bench-{run.run_id}")

    class TimedAdapters(PoolAdapters):
        pool = TimedPool()

        def get(self, kind: str) -> TimedPool:  # type: ignore[override]
            return self.pool

    return TimedAdapters()


def worker(url: str, start_file: str, state_dir: str, adapter: str = "process") -> None:
    from sqlalchemy import event
    from sqlmodel import Session, func, select

    from control_plane.db import create_db_engine
    from control_plane.models import FlowRun
    from control_plane.passes import dispatch_due
    from control_plane.services import Services
    from control_plane.settings import Settings
    from runtime.states import StateType

    os.environ["PUSHFLOW_HOME"] = state_dir  # where the process pool puts pid and log files
    settings = Settings(database_url=url, api_key="bench", run_loops=False, home=Path(state_dir))
    engine = create_db_engine(url)
    backends: set[int] = set()
    event.listen(engine, "connect", lambda conn, _: backends.add(conn.info.backend_pid))
    adapters = bench_adapters(adapter)
    services = Services(settings, engine, "bench", adapters, server_secret="bench-secret")  # type: ignore[arg-type]
    with Session(engine) as session:  # connected, and every module a pass needs is loaded
        session.exec(select(func.count()).select_from(FlowRun)).one()
    import control_plane.passes  # noqa: F401

    Path(f"{state_dir}.ready").touch()
    while not os.path.exists(start_file):
        time.sleep(0.005)
    started, cpu, claimed = time.perf_counter(), time.process_time(), 0
    server_cpu = backend_cpu(backends)
    while True:
        n = dispatch_due(services)
        claimed += n
        if n == 0:
            with Session(engine) as session:
                left = session.exec(
                    select(func.count()).select_from(FlowRun).where(FlowRun.state_type == StateType.SCHEDULED)
                ).one()
            if not left:
                break
    ids = list(getattr(adapters, "pool", None).submitted) if adapter != "process" else []  # type: ignore[union-attr]
    spent = {
        "finished": time.monotonic(),  # the system-wide clock: the parent compares it with its own
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "server_cpu": backend_cpu(backends) - server_cpu,  # backends opened meanwhile count whole
    }
    print(json.dumps({"claimed": claimed, **spent, "submitted_ids": ids}))


def measure(base_url: str, runs: int, dispatchers: int, adapter: str = "process") -> dict:
    import psycopg
    from sqlalchemy import insert
    from sqlmodel import Session, func, select

    from control_plane.columns import utcnow
    from control_plane.db import create_db_engine, migrate
    from control_plane.models import Deployment, FlowRun, Pool, new_id
    from runtime.states import StateType

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    raw = base_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{base_url}?options=-csearch_path%3D{schema}"
    try:
        engine = create_db_engine(url)
        migrate(engine)
        now = utcnow()
        with Session(engine) as session:
            session.add(Pool(name="local", type="process", defaults={"command": ["true"]}))
            deployment = Deployment(name="d", flow_name="f", entrypoint="f.py:f", pool="local")
            session.add(deployment)
            session.commit()
            rows = [
                {
                    "id": new_id(),
                    "name": f"r{n}",
                    "flow_name": "f",
                    "deployment_id": deployment.id,
                    "pool": "local",
                    "parameters": {},
                    "job_variables": {},
                    "state_type": StateType.SCHEDULED,
                    "state_name": "Scheduled",
                    "state_timestamp": now,
                    "state_version": 0,
                    "created": now,
                    "run_count": 0,
                    "dispatch_count": 0,
                    "infra_retries": 0,
                    "expected_start_time": now - timedelta(seconds=1),
                }
                for n in range(runs)
            ]
            session.execute(insert(FlowRun.__table__), rows)  # type: ignore[attr-defined]
            session.commit()
        with tempfile.TemporaryDirectory() as tmp:
            start = os.path.join(tmp, "start")
            procs = [
                subprocess.Popen(
                    [sys.executable, __file__, "--worker", url, start, os.path.join(tmp, f"w{n}"), adapter],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for n in range(dispatchers)
            ]
            # The clock starts once every worker has imported and connected (on a loaded
            # machine that takes seconds, which are no part of dispatching).
            ready = [Path(tmp, f"w{n}.ready") for n in range(dispatchers)]
            deadline = time.monotonic() + 300
            while not all(r.exists() for r in ready):
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError("a dispatcher worker did not get ready")
                time.sleep(0.05)
            t0 = time.monotonic()
            Path(start).touch()
            outs = [json.loads(p.communicate(timeout=600)[0].strip().splitlines()[-1]) for p in procs]
            # The clock stops when the last worker found nothing left to dispatch, not when
            # the last process has exited (four interpreters' teardown, 32 submit threads
            # each, took seconds at load 7: no part of dispatching either).
            wall = max(o["finished"] for o in outs) - t0
            pid_files = list(Path(tmp).glob("w*/process-runs/*.pid"))
            if adapter != "process":  # one "started" per submit the adapter saw
                pid_files = [Path(i) for o in outs for i in o["submitted_ids"]]
        with Session(engine) as session:
            submitted = session.exec(
                select(func.count()).select_from(FlowRun).where(FlowRun.state_name == "InfrastructurePending")
            ).one()
        engine.dispose()
        return {
            "dispatchers": dispatchers,
            "runs": runs,
            "seconds": wall,
            "per_second": runs / wall,
            "submitted": submitted,
            "processes_started": len(pid_files),
            "duplicates": len(pid_files) - len({p.stem for p in pid_files}),
            "split": [o["claimed"] for o in outs],
            "cpu_ms_per_run": 1000 * sum(o["cpu"] for o in outs) / runs,  # dispatchers' own CPU
            "server_cpu_ms_per_run": 1000 * sum(o["server_cpu"] for o in outs) / runs,  # their backends'
        }
    finally:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--dispatchers", default="1,4")
    parser.add_argument(
        "--url", default=os.environ.get("PUSHFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--adapter", choices=["process", *SUBMIT_SECONDS], default="process")
    args = parser.parse_args()
    print(
        f"dispatch throughput, PostgreSQL, {args.adapter} adapter, {args.runs} due runs, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    columns = ("dispatchers", 11), ("runs", 6), ("seconds", 8), ("runs/s", 8), ("submitted", 9), ("started", 8)
    print(
        " ".join(f"{name:>{width}}" for name, width in columns),
        f"{'dupes':>6} {'cpu ms/run':>10} {'db ms/run':>9}  split",
    )
    for k in [int(x) for x in args.dispatchers.split(",")]:
        r = measure(args.url, args.runs, k, args.adapter)
        print(
            f"{r['dispatchers']:>11} {r['runs']:>6} {r['seconds']:>8.2f} {r['per_second']:>8.0f} "
            f"{r['submitted']:>9} {r['processes_started']:>8} {r['duplicates']:>6} {r['cpu_ms_per_run']:>10.2f} "
            f"{r['server_cpu_ms_per_run']:>9.2f}  {r['split']}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:6])
    else:
        main()
