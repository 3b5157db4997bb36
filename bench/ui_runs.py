"""The UI's runs page with many runs in the store: server time of its first view, and the
size of the UI's own assets (raw and gzip).

python -m bench.ui_runs                          # 10,000 runs on SQLite
python -m bench.ui_runs --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The app runs in-process (no network in the figure): each request is timed from the call
to the full response body, the session cookie already set. Runs are inserted directly
(spread over 7 days, mixed states, 5 deployments on 3 pools), then each page is read
`--repeat` times after one warm-up read.
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from control_plane.local import create_local_app
from control_plane.models import Deployment, FlowRun, Pool
from control_plane.settings import Settings
from control_plane.ui import STATIC_DIR
from runtime.states import StateType

KEY = "bench-key"
PAGES = ["/ui/runs", "/ui/runs?fragment=1", "/ui/runs?state=CRASHED", "/ui/runs?tag=nightly&since=24h", "/ui"]


def seed(session: Session, runs: int) -> None:
    rng = random.Random(16)
    pools = [Pool(name=f"pool-{i}", type="process") for i in range(3)]
    deployments = [
        Deployment(
            name=f"d{i}",
            flow_name="etl",
            entrypoint="etl.py:etl",
            pool=pools[i % 3].name,
            tags=["nightly"] if i % 2 else [],
        )
        for i in range(5)
    ]
    session.add_all([*pools, *deployments])
    session.flush()
    now = datetime.now(timezone.utc)
    states = [StateType.COMPLETED] * 6 + [StateType.FAILED, StateType.CRASHED, StateType.RUNNING, StateType.SCHEDULED]
    for i in range(runs):
        deployment = deployments[i % 5]
        created = now - timedelta(seconds=rng.uniform(0, 7 * 24 * 3600))
        state = rng.choice(states)
        session.add(
            FlowRun(
                id=str(uuid.uuid4()),
                name=f"run-{i}",
                flow_name="etl",
                deployment_id=deployment.id,
                pool=deployment.pool,
                parameters={"n": i},
                state_type=state,
                state_name=state.value.title(),
                state_message="exit code 137 (OOM)" if state is StateType.CRASHED else None,
                state_timestamp=created,
                created=created,
                expected_start_time=created,
                start_time=created + timedelta(seconds=1),
                end_time=created + timedelta(seconds=30) if state.is_terminal else None,
            )
        )
    session.commit()


def asset_sizes() -> tuple[int, int]:
    """(raw, gzip) bytes of the UI's own CSS and JavaScript (Swagger UI excluded: it is
    loaded only by /api/docs)."""
    files = [p for p in STATIC_DIR.rglob("*") if p.is_file() and "swagger-ui" not in p.parts]
    raw = sum(p.stat().st_size for p in files)
    return raw, sum(len(gzip.compress(p.read_bytes(), 9)) for p in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        url = args.database_url or f"sqlite:///{Path(home) / 'bench.db'}"
        settings = Settings(home=Path(home), database_url=url, api_key=KEY, run_loops=False)
        with TestClient(create_local_app(settings), base_url="http://127.0.0.1:4300") as client:
            started = time.perf_counter()
            with Session(client.app.state.services.engine) as session:  # type: ignore[attr-defined]
                seed(session, args.runs)
            print(f"seeded {args.runs} runs in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
            client.post("/ui/login", data={"api_key": KEY}).raise_for_status()
            print(f"{'page':40} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'bytes':>8}")
            for page in PAGES:
                assert client.get(page).status_code == 200, page  # warm-up
                times, size = [], 0
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    response = client.get(page)
                    times.append((time.perf_counter() - t0) * 1000)
                    size = len(response.content)
                times.sort()
                p95 = times[max(int(len(times) * 0.95) - 1, 0)]
                print(f"{page:40} {statistics.median(times):10.1f} {p95:8.1f} {times[-1]:8.1f} {size:8d}")
    raw, packed = asset_sizes()
    print(f"UI assets (CSS + JS): {raw / 1024:.1f} KiB raw, {packed / 1024:.1f} KiB gzip")


if __name__ == "__main__":
    main()
