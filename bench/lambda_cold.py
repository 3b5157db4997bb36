"""Cold start of the Lambda handler, each sample a fresh interpreter (Lambda's init):

- import: `from control_plane.aws_lambda import handler` (what Lambda's init runs);
- first HTTP call: that import plus the first API Gateway 2.0 event (GET /api/health),
  which builds the FastAPI app, the services and the (not yet connected) engine;
- first tick modules: that import plus what a tick loads before touching the database.

    python -m bench.lambda_cold [--repeats 10]

Prints the medians (ms) and the ten slowest imports by `python -X importtime` (cumulative)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ENV = {
    "PUSHFLOW_DATABASE_URL": "postgresql://pushflow@127.0.0.1:1/pushflow",
    "PUSHFLOW_API_KEY": "bench",
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
SNIPPETS = {
    "import": "from control_plane.aws_lambda import handler",
    "first HTTP call": "from control_plane.aws_lambda import handler\nhandler(EVENT, None)",
    "first tick modules": "from control_plane.aws_lambda import handler\nimport control_plane.aws_lambda.ticks",
}
PROBE = (
    "import json, time\nEVENT = json.loads({event!r})\nt = time.perf_counter()\n{body}\n"
    "print(time.perf_counter() - t)\n"
)


def sample(body: str, cwd: str) -> float:
    code = PROBE.format(event=json.dumps(EVENT), body=body)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env={**os.environ, **ENV}, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return float(done.stdout.strip().splitlines()[-1]) * 1000


def slowest_imports(cwd: str, top: int = 10) -> list[tuple[str, float]]:
    """Third-party and own packages by the cumulative time of their first import."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", SNIPPETS["import"]],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **ENV},
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
    with tempfile.TemporaryDirectory() as cwd:
        result = {}
        for label, body in SNIPPETS.items():
            samples = [sample(body, cwd) for _ in range(args.repeats)]
            result[label] = {"median_ms": round(statistics.median(samples), 1), "min_ms": round(min(samples), 1)}
        result["slowest imports (cumulative ms)"] = slowest_imports(cwd)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
