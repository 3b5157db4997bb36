"""The API benchmark's four phases (bench/probes/load.py: create run, propose
SCHEDULED->CANCELLED, read run, list newest 50) served in-process, without a socket or
uvicorn, to `--concurrency` clients on one event loop, reporting what the server spends
per request in each phase: CPU ms (process time, all threads), or instructions when run
under callgrind. Not part of `python -m bench`: it measures one system's code, to decide
a change with counts instead of a noisy host's wall clock.

    python -m bench.api_instructions                      # SQLite and PostgreSQL, CPU ms
    python -m bench.api_instructions --database postgresql --requests 200
    PYTHONPATH=$REPO valgrind --tool=callgrind --instr-atstart=no \\
        /root/.pyenv/versions/3.11.7/bin/python3.11 -m bench.api_instructions \\
        --database postgresql --callgrind

With `--callgrind` each phase is counted alone: instrumentation is switched on before it
and the counts dumped after it (callgrind_control, by this process's id, to callgrind's
default file name in the working directory, so run it from a scratch one and leave
`--callgrind-out-file` unset); set-up, imports and migrations are not counted. PostgreSQL is a scratch database on
PUSHFLOW_BENCH_PG (bench/servers.py), dropped afterwards; SQLite a temporary file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.servers import ADMIN_KEY as KEY

FAR_FUTURE = "2999-01-01T00:00:00Z"  # as load.py: keep created runs away from any dispatch


class Client:
    """One ASGI request at a time, as uvicorn would hand it to the app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(self, method: str, path: str, body: Any = None, query: bytes = b"") -> tuple[int, bytes]:
        payload = b"" if body is None else json.dumps(body).encode()
        headers = [(b"host", b"bench"), (b"authorization", f"Bearer {KEY}".encode())]
        if body is not None:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query,
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 4300),
            "state": {},
        }
        sent = False
        status, chunks = 0, []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": payload, "more_body": False}
            await asyncio.Event().wait()  # the client never goes away
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


async def lifespan(app: Any, event: str, queue: asyncio.Queue[dict[str, Any]], answers: asyncio.Queue[Any]) -> None:
    await queue.put({"type": f"lifespan.{event}"})
    answer = await answers.get()
    if answer["type"] != f"lifespan.{event}.complete":
        raise RuntimeError(f"lifespan {event}: {answer}")


async def run_phases(app: Any, requests: int, concurrency: int, counter: Counter) -> dict[str, float]:
    import anyio.to_thread

    from control_plane import heap
    from control_plane.serve import REQUEST_THREADS

    anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    answers: asyncio.Queue[Any] = asyncio.Queue()
    server = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, queue.get, answers.put))
    await lifespan(app, "startup", queue, answers)
    client = Client(app)
    status, body = await client.call("POST", "/api/pools", {"name": "bench", "type": "process"})
    assert status == 201 or status == 200, (status, body)
    deployment = {"name": "bench", "flow_name": "bench", "pool": "bench", "entrypoint": "bench.py:bench"}
    status, body = await client.call("POST", "/api/deployments", deployment)
    assert status == 200, (status, body)
    deployment_id = json.loads(body)["id"]
    create_path = f"/api/deployments/{deployment_id}/runs"
    run_ids: list[str] = []

    async def create(_: int) -> tuple[int, bytes]:
        status, body = await client.call("POST", create_path, {"scheduled_start_time": FAR_FUTURE})
        run_ids.append(json.loads(body)["id"])
        return status, body

    async def propose(i: int) -> tuple[int, bytes]:
        state = {"state": {"type": "CANCELLED", "message": "bench"}}
        return await client.call("POST", f"/api/flow-runs/{run_ids[i]}/state", state)

    async def read(i: int) -> tuple[int, bytes]:
        return await client.call("GET", f"/api/flow-runs/{run_ids[i]}")

    async def list_runs(_: int) -> tuple[int, bytes]:
        return await client.call("GET", "/api/flow-runs", query=b"limit=50")

    for i in range(concurrency):  # warm-up, not counted: every route loaded and compiled
        await create(i)
        await propose(i)
        await read(i)
        await list_runs(i)
    run_ids.clear()
    heap.settle()  # as the server does after start-up (control_plane/serve.py)
    results = {}
    for name, op, expected in (
        ("create", create, 201),
        ("propose", propose, 200),
        ("read", read, 200),
        ("list", list_runs, 200),
    ):

        async def worker(pending: Any, name: str = name, op: Any = op, expected: int = expected) -> None:
            for i in pending:
                status, body = await op(i)
                if status != expected:
                    raise RuntimeError(f"{name}: {status} {body[:300]!r}")

        gc.collect()  # a phase does not pay for the one before it
        with counter.phase(name):
            pending = iter(range(requests))  # shared: each client takes the next request
            await asyncio.gather(*(worker(pending) for _ in range(concurrency)))
        results[name] = counter.last / requests
    await lifespan(app, "shutdown", queue, answers)
    await server
    return results


class Counter:
    """Per phase: process CPU ms, or (under callgrind) instructions from a dump."""

    def __init__(self, callgrind: bool) -> None:
        self.callgrind = callgrind
        self.last = 0.0

    def _control(self, *args: str) -> None:
        subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, capture_output=True)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        if not self.callgrind:
            start = time.process_time()
            yield
            self.last = (time.process_time() - start) * 1000
            return
        self._control("-z")
        self._control("-i", "on")
        yield
        self._control("-i", "off")
        dumps = f"callgrind.out.{os.getpid()}.*"  # callgrind's default file name, in the cwd
        before = set(Path().glob(dumps))
        self._control("-d", name)
        self.last = sum(_total(path) for path in set(Path().glob(dumps)) - before)


def _total(path: Path) -> float:
    """A dump's instruction count (its `totals:`; `summary:` stays 0 after a zeroing)."""
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("totals:"):
            return float(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/pushflow.db"
        return
    from bench.servers import scratch_postgres_database

    with scratch_postgres_database("instructions") as url:
        yield f"postgresql+psycopg://{url}"


def measure(kind: str, requests: int, concurrency: int, counter: Counter) -> dict[str, float]:
    from control_plane.app import create_app
    from control_plane.local import prepare_local
    from control_plane.settings import Settings

    with database(kind) as url, tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), database_url=url, api_key=KEY, run_loops=False)
        app = create_app(prepare_local(settings))
        return asyncio.run(run_phases(app, requests, concurrency, counter))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--requests", type=int, default=200, help="per phase")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--callgrind", action="store_true", help="running under valgrind --tool=callgrind")
    args = parser.parse_args()
    counter = Counter(args.callgrind)
    unit = "M instructions" if args.callgrind else "CPU ms"
    scale = 1e-6 if args.callgrind else 1.0
    phases = "".join(f"{p:>10}" for p in ("create", "propose", "read", "list"))
    print(f"{'database':<12}{phases}  ({unit}/request)")
    for kind in args.database or ["sqlite", "postgresql"]:
        per_request = measure(kind, args.requests, args.concurrency, counter)
        print(f"{kind:<12}" + "".join(f"{v * scale:>10.3f}" for v in per_request.values()), flush=True)


if __name__ == "__main__":
    sys.exit(main())
