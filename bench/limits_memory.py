"""The server's memory around the size-limit probes (issue 18): a real `pushflow server
start`, its resident set before and after a 20 MB body, a 40 MB chunked body, a 10 MB
parameter, a 20 MB log batch and 300 child runs from one run token (limit set to 100).

python -m bench.limits_memory      # prints RSS before/after and each answer's status
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import LiveServer

MB = 1024 * 1024


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        live = LiveServer(
            Path(home),
            extra_env={
                "PUSHFLOW_DISPATCH_ON_TRIGGER": "false",
                "PUSHFLOW_RUN_LOOPS": "false",
                "PUSHFLOW_MAX_CHILDREN_PER_RUN": "100",
            },
        ).start()
        try:
            assert live.process is not None
            api = live.client()
            api.timeout = 60
            api.post("/api/pools", json={"name": "local", "type": "process"}).raise_for_status()
            body = {"name": "d", "flow_name": "f", "entrypoint": "f.py:f", "pool": "local"}
            deployment = api.post("/api/deployments", json=body).json()
            run = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
            for state in ("PENDING", "RUNNING"):
                api.post(f"/api/flow-runs/{run['id']}/state", json={"state": {"type": state}})
            child = api.post(f"/api/flow-runs/{run['id']}/subflow-runs", json={"flow_name": "s"}).json()
            token = {"Authorization": f"Bearer {child['token']}"}
            api.post(
                f"/api/flow-runs/{child['flow_run']['id']}/state", json={"state": {"type": "RUNNING"}}, headers=token
            )
            before = rss_mb(live.process.pid)

            def chunks() -> Iterator[bytes]:
                for _ in range(40):
                    yield b"x" * MB

            answers = {
                "20 MB body": api.post("/api/deployments", content=b"x" * 20 * MB).status_code,
                "40 MB chunked body": api.post("/api/deployments", content=chunks()).status_code,
                "10 MB parameter": api.post(
                    f"/api/deployments/{deployment['id']}/runs", json={"parameters": {"p": "x" * 10 * MB}}
                ).status_code,
                "20 MB log batch": api.post(
                    f"/api/flow-runs/{child['flow_run']['id']}/logs",
                    content=json.dumps([{"message": "x" * MB, "timestamp": 1.0}] * 20),
                    headers={**token, "content-type": "application/json"},
                ).status_code,
            }
            children = [
                api.post(
                    f"/api/flow-runs/{child['flow_run']['id']}/subflow-runs", json={"flow_name": "g"}, headers=token
                ).status_code
                for _ in range(300)
            ]
            answers["300 children"] = {str(s): children.count(s) for s in sorted(set(children))}
            after = rss_mb(live.process.pid)
            print(json.dumps({"rss_mb_before": round(before, 1), "rss_mb_after": round(after, 1), **answers}))
        finally:
            live.stop()


if __name__ == "__main__":
    main()
