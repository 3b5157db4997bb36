"""How long one `tick()` takes with N active runs, on PostgreSQL (and SQLite): every run
PENDING/RUNNING on a pool whose `status()` answers at once, so the figure is the passes'
own cost (store reads and writes), not a cloud API's latency.

    python bench/tick.py [--runs 1000] [--ticks 5] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Short runs only on a shared machine. A fresh schema (or SQLite file) per measurement.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def measure(url: str, runs: int, ticks: int, home: Path) -> dict:
    from sqlalchemy import insert
    from sqlmodel import Session

    from control_plane.columns import utcnow
    from control_plane.db import create_db_engine, migrate
    from control_plane.models import Deployment, FlowRun, Pool, new_id
    from control_plane.passes import tick
    from control_plane.services import PoolAdapters, Services
    from control_plane.settings import Settings
    from push_pools.base import PoolContext
    from runtime.states import StateType
    from tests.control_plane import counting_pool

    counting_pool.register()
    engine = create_db_engine(url)
    migrate(engine)
    now = utcnow()
    with Session(engine) as session:
        session.add(Pool(name="p", type="counting", defaults={"count_file": str(home / "count.txt")}))
        deployment = Deployment(name="d", flow_name="f", entrypoint="f.py:f", pool="p")
        session.add(deployment)
        session.commit()
        rows = []
        for n in range(runs):
            running = n % 2 == 0
            run_id = new_id()
            rows.append(
                {
                    "id": run_id,
                    "name": f"r{n}",
                    "flow_name": "f",
                    "deployment_id": deployment.id,
                    "pool": "p",
                    "parameters": {},
                    "job_variables": {},
                    "state_type": StateType.RUNNING if running else StateType.PENDING,
                    "state_name": "Running" if running else "InfrastructurePending",
                    "state_timestamp": now,
                    "state_version": 2,
                    "created": now,
                    "run_count": 1 if running else 0,
                    "dispatch_count": 1,
                    "infra_retries": 0,
                    "infra_provider": "counting",
                    "infra_id": f"pushflow-{run_id}",
                    "heartbeat_time": now if running else None,
                    "expected_start_time": now - timedelta(seconds=1),
                }
            )
        session.execute(insert(FlowRun.__table__), rows)  # type: ignore[attr-defined]
        session.commit()
    settings = Settings(database_url=url, api_key="bench", run_loops=False, home=home)
    adapters = PoolAdapters(PoolContext(state_dir=home / "runs"))
    services = Services(settings, engine, "bench", adapters, server_secret="bench-secret")
    seconds = [tick(services, budget_seconds=60).seconds for _ in range(ticks)]
    engine.dispose()
    return {"runs": runs, "ticks": ticks, "median_s": statistics.median(seconds), "max_s": max(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    import psycopg

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = measure(f"sqlite:///{tmp}/bench.db", args.runs, args.ticks, Path(tmp))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    raw = args.url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"{args.url}?options=-csearch_path%3D{schema}"
            results["postgresql"] = measure(url, args.runs, args.ticks, Path(tmp))
    finally:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
