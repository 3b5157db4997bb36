"""Lateness of scheduled runs through the Lambda path: one EventBridge tick queues every
run due in the next 90 s on SQS with its delay; SQS deliveries (moto, polled the way the
event source mapping does) invoke handler processes that wait out the sub-second rest
and submit the run. Lateness = when the submission was recorded - the run's due time,
reported apart for runs due while the tick itself ran (it creates them: the deployment
is made just before) and runs due after it (the SQS path).

    python -m bench.lambda_lateness [--interval 2] [--seconds 60] [--preload]

`--preload` sets PUSHFLOW_LAMBDA_PRELOAD=true, so the warmed execution environments have
built everything in init (SnapStart, provisioned concurrency); without it each one's
first SQS delivery pays the cold build of the store and the passes, as a fresh Lambda
container does.

Needs PostgreSQL on 127.0.0.1:5432 (database `test`); uses the tests' local gateway and
counting pool (tests/aws_lambda/gateway.py, tests/control_plane/counting_pool.py)."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import boto3
import httpx
import psycopg
from sqlmodel import Session, create_engine, select

from control_plane.columns import utcnow
from control_plane.models import FlowRun

PG = "postgresql://postgres@127.0.0.1:5432/test"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=2.0, help="schedule interval, seconds")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to watch (at most 90)")
    parser.add_argument("--preload", action="store_true", help="PUSHFLOW_LAMBDA_PRELOAD=true in the workers")
    args = parser.parse_args()
    from moto.server import ThreadedMotoServer

    from tests.aws_lambda.gateway import LocalGateway

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    aws = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
    sqs = boto3.client("sqs", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                       aws_access_key_id="x", aws_secret_access_key="x")  # fmt: skip
    queue_url = sqs.create_queue(QueueName="lateness")["QueueUrl"]
    with tempfile.TemporaryDirectory() as scratch:
        gateway = LocalGateway({}, Path(scratch), max_workers=4, worker_args=["--register-counting-pool"])
        gateway.env.update(
            {
                **aws,
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": f"http://{host}:{port}",
                "PUSHFLOW_DATABASE_URL": url,
                "PUSHFLOW_API_KEY": "bench",
                "PUSHFLOW_SERVER_SECRET": "bench-secret",
                "PUSHFLOW_API_URL": f"{gateway.url}/api",
                "PUSHFLOW_DISPATCH_QUEUE_URL": queue_url,
                "PUSHFLOW_SCHEDULE_MAX_RUNS": "100",
                **({"PUSHFLOW_LAMBDA_PRELOAD": "true"} if args.preload else {}),
            }
        )
        gateway.start()
        try:
            gateway.invoke({"pushflow": "migrate"})
            defaults = {"count_file": str(Path(scratch) / "submissions")}
            gateway.invoke({"pushflow": "upsert-pool", "name": "counted", "type": "counting", "defaults": defaults})
            body = {"name": "lateness", "flow_name": "f", "entrypoint": "f.py:f", "pool": "counted",
                    "schedules": [{"interval_seconds": args.interval}]}  # fmt: skip
            with httpx.Client(base_url=gateway.url, headers={"Authorization": "Bearer bench"}, timeout=60) as client:
                client.post("/api/deployments", json=body).raise_for_status()
            gateway.warm(4)
            gateway.poll_queue(sqs, queue_url)
            ticked_at = utcnow()
            tick = gateway.invoke({"pushflow": "tick"})
            tick_returned = utcnow()
            end = utcnow() + timedelta(seconds=min(args.seconds, 90))
            time.sleep(max(0.0, (end - utcnow()).total_seconds()) + 3)  # a bench, not a test: watch the clock
            engine = create_engine(url)
            with Session(engine) as session:
                runs = session.exec(select(FlowRun).where(FlowRun.expected_start_time <= end)).all()
            engine.dispose()
        finally:
            gateway.stop()
            moto.stop()
            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    # Runs due while the tick ran were created and dispatched (or queued at once) by the
    # tick itself: their lateness is the tick's cold start, not the SQS path's.
    during = [r for r in runs if ticked_at < r.expected_start_time <= tick_returned]
    via_sqs = [r for r in runs if r.expected_start_time > tick_returned]
    print(
        json.dumps(
            {
                "tick": tick,
                "due while the tick ran": lateness(during),
                "due after the tick (through SQS)": lateness(via_sqs),
            },
            indent=2,
        )
    )


def lateness(runs: list[FlowRun]) -> dict[str, object]:
    late = sorted((r.state_timestamp - r.expected_start_time).total_seconds() * 1000 for r in runs if r.infra_id)
    if not late:
        return {"runs": len(runs), "submitted": 0}

    def pct(p: float) -> float:
        return round(late[min(len(late) - 1, int(p * len(late)))], 1)

    return {
        "runs": len(runs),
        "submitted": len(late),
        "lateness_ms": {
            "min": round(late[0], 1),
            "p50": round(statistics.median(late), 1),
            "p90": pct(0.9),
            "p99": pct(0.99),
            "max": round(late[-1], 1),
        },
    }


if __name__ == "__main__":
    main()
