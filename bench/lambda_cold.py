"""Cold start of the Lambda handler: each sample is a fresh interpreter (Lambda's init)
that imports the handler, then serves one first event, timed separately, so laziness
cannot hide a cost:

- import: `from control_plane.aws_lambda import handler` (what Lambda's init runs);
- first HTTP: an API Gateway 2.0 `GET /api/health` (builds the FastAPI app, the services
  and the engine; health does not touch the database);
- first HTTP list runs: `GET /api/flow-runs` with the admin key (the app, then the first
  route module a request loads, the key check and a query: what a first API call pays);
- first tick: an EventBridge scheduled event (the passes, on a migrated PostgreSQL schema
  holding nothing due);
- first SQS: one delivery of a run that does not exist (a claim that finds nothing);
- the same with `PUSHFLOW_LAMBDA_PRELOAD=true`: init then builds everything (what
  SnapStart snapshots), and the first HTTP event finds it ready.

    python -m bench.lambda_cold [--repeats 10]

Needs PostgreSQL on 127.0.0.1:5432 (database `test`). Prints medians and minimums (ms)
and the ten slowest imports of the handler by `python -X importtime` (cumulative)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

PG = "postgresql://postgres@127.0.0.1:5432/test"
ROOT = Path(__file__).parents[1]
ENV = {
    "PUSHFLOW_API_KEY": "bench",
    "PUSHFLOW_SERVER_SECRET": "bench-secret",
    "PUSHFLOW_API_URL": "https://abc.execute-api.us-east-1.amazonaws.com/api",
    "AWS_REGION": "us-east-1",
}
EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/api/health",
    "rawQueryString": "",
    "headers": {"host": "abc.execute-api.us-east-1.amazonaws.com"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "abc",
        "domainName": "abc.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "abc",
        "http": {
            "method": "GET",
            "path": "/api/health",
            "protocol": "HTTP/1.1",
            "sourceIp": "1.2.3.4",
            "userAgent": "b",
        },
        "requestId": "r",
        "routeKey": "$default",
        "stage": "$default",
        "time": "01/Jan/2026:00:00:00 +0000",
        "timeEpoch": 0,
    },
    "isBase64Encoded": False,
}
TICK = {"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
SQS = {
    "Records": [
        {
            "messageId": "m1",
            "body": json.dumps({"run_id": str(uuid.UUID(int=1)), "due": "2026-01-01T00:00:00+00:00"}),
            "eventSource": "aws:sqs",
        }
    ]
}
LIST_RUNS = {
    **EVENT,
    "rawPath": "/api/flow-runs",
    "headers": {**EVENT["headers"], "authorization": "Bearer bench"},  # type: ignore[dict-item]
    "requestContext": {
        **EVENT["requestContext"],  # type: ignore[dict-item]
        "http": {**EVENT["requestContext"]["http"], "path": "/api/flow-runs"},  # type: ignore[index]
    },
}
KINDS = {"HTTP health": EVENT, "HTTP list runs": LIST_RUNS, "tick": TICK, "SQS delivery": SQS}
PROBE = """
import json, time
t, c = time.perf_counter(), time.process_time()
from control_plane.aws_lambda import handler
imported, imported_cpu = time.perf_counter(), time.process_time()
answer = handler(json.loads({event!r}), None)
done, done_cpu = time.perf_counter(), time.process_time()
assert "errorMessage" not in answer and answer.get("statusCode", 200) == 200, answer
print(json.dumps([imported - t, done - imported, imported_cpu - c, done_cpu - imported_cpu]))
"""


def sample(event: object, cwd: str, env: dict[str, str]) -> list[float]:
    """[import, first event, import CPU, first event CPU] in ms, in a fresh interpreter."""
    code = PROBE.format(event=json.dumps(event))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return [seconds * 1000 for seconds in json.loads(done.stdout.strip().splitlines()[-1])]


def summary(runs: list[list[float]], *columns: int) -> dict[str, float]:
    """Median and minimum of the sum of `columns`: wall time, and CPU time (steadier on a
    shared machine, where waiting for a core inflates the wall time)."""
    wall = [sum(r[c] for c in columns) for r in runs]
    cpu = [sum(r[c + 2] for c in columns) for r in runs]
    return {
        "median_ms": round(statistics.median(wall), 1),
        "min_ms": round(min(wall), 1),
        "cpu_median_ms": round(statistics.median(cpu), 1),
    }


def slowest_imports(cwd: str, env: dict[str, str], top: int = 10) -> list[tuple[str, float]]:
    """Third-party and own packages by the cumulative time of their first import."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "from control_plane.aws_lambda import handler"],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    packages: dict[str, float] = {}
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].strip()
        if "." not in name:  # a package's top module: its cumulative time is the package's
            packages[name] = max(packages.get(name, 0.0), int(parts[1]) / 1000)
    return sorted(packages.items(), key=lambda item: -item[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    env = {**os.environ, **ENV, "PUSHFLOW_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    try:
        with tempfile.TemporaryDirectory() as cwd:
            sample({"pushflow": "migrate"}, cwd, env)
            result: dict[str, object] = {}
            for label, event in KINDS.items():
                runs = [sample(event, cwd, env) for _ in range(args.repeats)]
                result[f"import, then first {label}"] = {
                    "import": summary(runs, 0),
                    "first event": summary(runs, 1),
                    "total": summary(runs, 0, 1),
                }
            preload = {**env, "PUSHFLOW_LAMBDA_PRELOAD": "true"}
            runs = [sample(EVENT, cwd, preload) for _ in range(args.repeats)]
            result["PUSHFLOW_LAMBDA_PRELOAD=true: init, then first HTTP health"] = {
                "init (import + preload)": summary(runs, 0),
                "first event": summary(runs, 1),
            }
            result["slowest imports (cumulative ms)"] = slowest_imports(cwd, env)
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    result["load average"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
