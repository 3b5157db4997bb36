"""SDK overhead: what a task and a flow cost, locally and from a deployment.

    python bench/sdk.py            # local and against a local server it starts
    python bench/sdk.py --local    # local only

Prints a table: 1,000 sequential trivial tasks and 1,000 mapped tasks, per-task overhead
beside the same loop of plain calls, and the time of an empty flow. From a deployment the
time is the run's own (RUNNING to terminal, as the server records it, so it includes
reporting every task run and flushing before the final state) minus an empty run's.
Targets: < 0.1 ms/task locally, < 0.5 ms/task reporting to the server, empty flow < 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N = 1000

FLOWS = """
from runtime import flow, task


@task
def noop(x):
    return x


@flow
def sequential(n: int = 1000):
    for i in range(n):
        noop(i)


@flow
def mapped(n: int = 1000):
    noop.map(range(n)).wait()


@flow
def empty():
    pass


@task
async def anoop(x):
    return x


@flow
async def async_sequential(n: int = 1000):
    for i in range(n):
        await anoop(i)
"""


def _best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def local_rows() -> list[tuple[str, float, float | None]]:
    import logging

    from runtime import flow, task
    from runtime.loggers import LOGGER_NAME

    def plain(x):
        return x

    noop = task(plain)

    @flow
    def sequential():
        for i in range(N):
            noop(i)

    @flow
    def mapped():
        noop.map(range(N)).wait()

    @flow
    def empty():
        pass

    async def plain_async(x):
        return x

    anoop = task(plain_async)

    @flow
    async def async_sequential():
        for i in range(N):
            await anoop(i)

    @flow
    async def async_empty():
        pass

    @flow
    def async_mapped():
        anoop.map(range(N)).wait()

    empty()  # first call warms imports and configures the run logger
    asyncio.run(async_empty())
    logging.getLogger(LOGGER_NAME).setLevel(logging.WARNING)  # the console is not what we measure
    plain_loop = _best(lambda: [plain(i) for i in range(N)])
    empty_time = statistics.median(_time(empty) for _ in range(50))
    seq = _best(sequential) - empty_time
    mapped_time = _best(mapped) - empty_time

    async def plain_async_loop():
        for i in range(N):
            await plain_async(i)

    async_plain = _best(lambda: asyncio.run(plain_async_loop()))
    async_empty_time = statistics.median(_time(lambda: asyncio.run(async_empty())) for _ in range(50))
    async_seq = _best(lambda: asyncio.run(async_sequential())) - async_empty_time
    async_mapped_time = _best(async_mapped) - empty_time
    return [
        ("local: 1,000 sequential tasks", seq / N * 1e3, (seq - plain_loop) / N * 1e3),
        ("local: 1,000 sequential async tasks (await)", async_seq / N * 1e3, (async_seq - async_plain) / N * 1e3),
        ("local: empty async flow (ms per flow)", async_empty_time * 1e3, None),
        (
            "local: 1,000 mapped async tasks (sync flow)",
            async_mapped_time / N * 1e3,
            (async_mapped_time - plain_loop) / N * 1e3,
        ),
        ("local: 1,000 mapped tasks", mapped_time / N * 1e3, (mapped_time - plain_loop) / N * 1e3),
        ("local: plain loop of 1,000 calls", plain_loop / N * 1e3, None),
        ("local: empty flow (ms per flow)", empty_time * 1e3, None),
    ]


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def server_rows() -> list[tuple[str, float, float | None]]:
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "flows.py").write_text(textwrap.dedent(FLOWS))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}/api"
        env = {
            **os.environ,
            "PUSHFLOW_HOME": str(home),
            "PUSHFLOW_API_KEY": "bench",
            "PUSHFLOW_API_URL": url,
            "PUSHFLOW_LOOP_INTERVAL": "0.1",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "pushflow_cli", "server", "start", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            api = httpx.Client(base_url=url, headers={"Authorization": "Bearer bench"}, timeout=30)
            _wait(lambda: _healthy(api))
            api.post("/pools", json={"name": "bench", "type": "process"}).raise_for_status()
            durations = {}
            for name in ("empty", "sequential", "mapped", "async_sequential"):
                body = {
                    "name": "bench",
                    "flow_name": name,
                    "entrypoint": f"flows.py:{name}",
                    "working_dir": str(home),
                    "pool": "bench",
                }
                deployment = api.post("/deployments", json=body).json()
                durations[name] = min(_deployed_run(api, deployment) for _ in range(2))
            empty = durations["empty"]
            return [
                (
                    "server: 1,000 sequential tasks",
                    (durations["sequential"] - empty) / N * 1e3,
                    None,
                ),
                ("server: 1,000 mapped tasks", (durations["mapped"] - empty) / N * 1e3, None),
                (
                    "server: 1,000 sequential async tasks",
                    (durations["async_sequential"] - empty) / N * 1e3,
                    None,
                ),
                ("server: empty flow run (ms, RUNNING->COMPLETED)", empty * 1e3, None),
            ]
        finally:
            server.terminate()
            server.wait(10)


def _healthy(api) -> bool:
    try:
        return api.get("/health").status_code == 200
    except Exception:
        return False


def _wait(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError("timed out")


def _deployed_run(api, deployment) -> float:
    run = api.post(f"/deployments/{deployment['id']}/runs", json={}).json()

    def ended():
        current = api.get(f"/flow-runs/{run['id']}").json()
        return current if current["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED") else None

    done = _wait(ended)
    if done["state"]["type"] != "COMPLETED":
        raise RuntimeError(f"bench run ended {done['state']}")
    start, end = (datetime.fromisoformat(done[k]) for k in ("start_time", "end_time"))
    return (end - start).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local", action="store_true", help="skip the server measurements")
    args = parser.parse_args()
    rows = local_rows()
    if not args.local:
        rows += server_rows()
    print(f"{'measurement':<50} {'ms/task (or ms)':>16} {'overhead ms/task':>17}")
    print("-" * 85)
    for name, value, overhead in rows:
        extra = f"{overhead:17.4f}" if overhead is not None else f"{'':>17}"
        print(f"{name:<50} {value:16.4f} {extra}")


if __name__ == "__main__":
    main()
