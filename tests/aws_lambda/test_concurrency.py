"""Eight handler processes on one PostgreSQL, fed a mix of overlapping ticks, SQS
deliveries (duplicated, as SQS may) and HTTP triggers (retried with the same
idempotency key, as clients do): every run is submitted, and none twice."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from sqlmodel import Session, create_engine, select

from control_plane.aws_lambda.dispatch_queue import DueRun
from control_plane.columns import utcnow
from control_plane.models import FlowRun
from runtime.states import StateType
from tests.aws_lambda.conftest import ADMIN_KEY, AWS_ENV
from tests.aws_lambda.fixtures import load
from tests.aws_lambda.gateway import LocalGateway
from tests.control_plane import counting_pool
from tests.helpers import wait_for

pytestmark = pytest.mark.postgres

PROCESSES = 8


@pytest.fixture
def gateway(moto_url: str, pg_schema_url: str, tmp_path: Path) -> Iterator[LocalGateway]:
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1", **_keys())
    queue_url = sqs.create_queue(QueueName=f"concurrency-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    gateway = LocalGateway({}, tmp_path, max_workers=PROCESSES, worker_args=["--register-counting-pool"])
    gateway.env.update(
        {
            **AWS_ENV,
            "AWS_ENDPOINT_URL": moto_url,
            "PUSHFLOW_DATABASE_URL": pg_schema_url,
            "PUSHFLOW_API_KEY": ADMIN_KEY,
            "PUSHFLOW_SERVER_SECRET": "lambda-server-secret",
            "PUSHFLOW_API_URL": f"{gateway.url}/api",
            "PUSHFLOW_DISPATCH_QUEUE_URL": queue_url,
            "PUSHFLOW_SCHEDULE_MAX_RUNS": "5",
        }
    )
    gateway.start()
    gateway.sqs, gateway.queue_url = sqs, queue_url  # type: ignore[attr-defined]
    try:
        gateway.invoke({"pushflow": "migrate"})
        gateway.warm(PROCESSES)
        yield gateway
    finally:
        gateway.stop()


def _keys() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def test_every_run_is_submitted_exactly_once(gateway: LocalGateway, pg_schema_url: str, tmp_path: Path) -> None:
    count_file = tmp_path / "submissions"
    gateway.invoke(
        {"pushflow": "upsert-pool", "name": "counted", "type": "counting", "defaults": {"count_file": str(count_file)}}
    )
    with httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60) as http:
        body = {"name": "mixed", "flow_name": "f", "entrypoint": "f.py:f", "pool": "counted"}
        scheduled = {**body, "name": "every-second", "schedules": [{"interval_seconds": 1}]}
        deployment = http.post("/api/deployments", json=body).json()
        assert http.post("/api/deployments", json=scheduled).status_code in (200, 201)
        gateway.poll_queue(gateway.sqs, gateway.queue_url)  # type: ignore[attr-defined]

        def tick() -> Any:
            return gateway.invoke(load("eventbridge-scheduled-rule.json"))

        def trigger(key: str) -> str:
            answer = http.post(f"/api/deployments/{deployment['id']}/runs", json={"idempotency_key": key})
            assert answer.status_code in (200, 201), answer.text
            return str(answer.json()["id"])

        def deliver_twice(run_ids: list[str]) -> Any:
            event = load("sqs.json")
            template = event["Records"][0]
            now = utcnow()
            event["Records"] = [
                {**template, "messageId": f"{i}-{n}", "body": DueRun(r, now).body()}
                for i, r in enumerate(run_ids)
                for n in range(2)
            ]
            return gateway.invoke(event)

        keys = [f"key-{i % 30}" for i in range(45)]  # 15 retried triggers
        ids: list[str] = []
        lock = threading.Lock()
        with ThreadPoolExecutor(PROCESSES) as pool:
            jobs = [pool.submit(tick) for _ in range(4)]
            for key in keys:
                jobs.append(pool.submit(lambda k=key: ids.append(trigger(k))))
            for job in jobs:
                job.result()
            # SQS deliveries of runs the HTTP path already dispatched: claimed by no one again
            with lock:
                firsts = sorted(set(ids))[:10]
            for answer in pool.map(deliver_twice, [firsts[:5], firsts[5:], firsts]):
                assert answer == {"batchItemFailures": []}
            for _ in pool.map(lambda _: tick(), range(4)):
                pass

    assert len(set(ids)) == 30  # a retried trigger returns the run it made
    engine = create_engine(pg_schema_url)

    def runs() -> list[FlowRun]:
        with Session(engine) as session:
            return list(session.exec(select(FlowRun)))

    def settled() -> list[FlowRun] | None:
        current = runs()
        cutoff = utcnow() - timedelta(seconds=2)
        waiting = [r for r in current if r.state_type == StateType.SCHEDULED and r.expected_start_time < cutoff]
        return current if not waiting else None

    try:
        all_runs = wait_for(settled, timeout=60, what="every due run to be submitted")
        lines = counting_pool.submissions(count_file)
        after = runs()  # the schedule keeps going: compare against what was there before and after
    finally:
        engine.dispose()
    submitted = Counter(line[0] for line in lines)
    twice = [run_id for run_id, n in submitted.items() if n > 1]
    assert twice == [], f"submitted more than once: {twice}"
    recorded = {r.id for r in all_runs if r.infra_id}
    assert recorded <= set(submitted)
    assert set(submitted) <= {r.id for r in after if r.state_type != StateType.SCHEDULED}
    assert set(ids) <= set(submitted)
    assert any(r.schedule_id for r in all_runs if r.id in submitted)  # scheduled ones too
    assert len({line[2] for line in lines}) > 1  # the work really was spread over the handler processes
