"""The Lambda control plane end to end, with nothing of AWS but moto: a local gateway
turns HTTP requests into API Gateway 2.0 events for handler processes, so the user
and each run's runtime reach "Lambda" over real HTTP. Runs go to ECS (moto) and
the container simulator runs exactly what was submitted."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.aws_lambda.conftest import ADMIN_KEY
from tests.aws_lambda.fixtures import load
from tests.aws_lambda.gateway import LocalGateway
from tests.emulators.ecs import EcsEmulator
from tests.helpers import final, trigger, wait_for

pytestmark = pytest.mark.postgres

FLOWS = textwrap.dedent(
    """
    from runtime import flow, task


    @task
    def double(x: int) -> int:
        return 2 * x


    @flow(log_prints=True)
    def doubler(n: int = 3) -> int:
        total = sum(double(i) for i in range(n))
        print(f"total is {total}")
        return total
    """
)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EcsEmulator]:
    emulator = EcsEmulator(tmp_path_factory.mktemp("ecs-containers")).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def gateway(emulator: EcsEmulator, pg_schema_url: str, tmp_path: Path) -> Iterator[LocalGateway]:
    sqs = emulator.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"pushflow-dispatch-{tmp_path.name[-20:]}")["QueueUrl"]
    gateway = LocalGateway({}, tmp_path, max_workers=3)
    gateway.env.update(
        {
            **emulator.env(),
            "AWS_REGION": "us-east-1",
            "PUSHFLOW_DATABASE_URL": pg_schema_url,
            "PUSHFLOW_API_KEY": ADMIN_KEY,
            "PUSHFLOW_SERVER_SECRET": "lambda-server-secret",
            "PUSHFLOW_API_URL": f"{gateway.url}/api",
            "PUSHFLOW_DISPATCH_QUEUE_URL": queue_url,
            "PUSHFLOW_HOME": str(tmp_path / "no-home"),  # the handler must never write here
        }
    )
    gateway.start()
    gateway.queue_url = queue_url  # type: ignore[attr-defined]
    gateway.sqs = sqs  # type: ignore[attr-defined]
    try:
        assert gateway.invoke({"pushflow": "migrate"}) == {"pushflow": "migrate", "status": "ok"}
        yield gateway
    finally:
        gateway.stop()
    assert not (tmp_path / "no-home").exists()


def api(gateway: LocalGateway) -> httpx.Client:
    return httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30)


def deploy(
    gateway: LocalGateway, emulator: EcsEmulator, tmp_path: Path, schedules: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    project = tmp_path / "project"
    project.mkdir()
    flows = project / "lambda_flows.py"
    flows.write_text(FLOWS)
    emulator.ensure_cluster_and_log_group("pushflow", "/pushflow/runs")  # what terraform's ecs-pool makes
    defaults = {
        "image": "pushflow/flows:e2e",
        "cluster": "pushflow",
        "log_group": "/pushflow/runs",
        "subnets": [emulator.default_subnet()],
        "execution_role_arn": "arn:aws:iam::123456789012:role/pushflow-ecs-execution",
        # the image's WORKDIR holds the flow code (`--source image`)
        "command": ["sh", "-c", f"cd {project} && exec pushflow execute"],
    }
    # registered the way infrastructure code does it: a direct invocation
    gateway.invoke({"pushflow": "upsert-pool", "name": "fargate", "type": "ecs", "defaults": defaults})
    body: dict[str, Any] = {
        "name": "e2e",
        "flow_name": "doubler",
        "entrypoint": f"{flows.name}:doubler",
        "source": {"type": "image"},
        "pool": "fargate",
        "schedules": schedules,
    }
    with api(gateway) as client:
        answer = client.post("/api/deployments", json=body)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()  # type: ignore[no-any-return]


def test_a_triggered_run_is_submitted_in_its_request_and_completes(
    gateway: LocalGateway, emulator: EcsEmulator, tmp_path: Path
) -> None:
    deployment = deploy(gateway, emulator, tmp_path)
    with api(gateway) as client:
        run = trigger(client, deployment, n=3)
        # no tick has run: the trigger's own invocation handed the run to ECS
        submitted = client.get(f"/api/flow-runs/{run['id']}").json()
        assert submitted["infrastructure"]["provider"] == "ecs", submitted["state"]
        assert submitted["infrastructure"]["id"].startswith("arn:aws:ecs:us-east-1:")
        done = final(client, run)
        assert done["state"]["type"] == "COMPLETED", done["state"]["message"]
        task_runs = client.get(f"/api/flow-runs/{run['id']}/task-runs").json()
        assert sorted(t["name"] for t in task_runs) == ["double-0", "double-1", "double-2"]
        logs = "\n".join(e["message"] for e in client.get(f"/api/flow-runs/{run['id']}/logs").json())
        assert "total is 6" in logs
    container = emulator.simulator.get(done["infrastructure"]["id"])
    assert container is not None and container.env["PUSHFLOW_API_URL"] == f"{gateway.url}/api"
    assert container.command[-1].endswith("exec pushflow execute")


def test_a_scheduled_run_arrives_through_tick_and_sqs_on_time(
    gateway: LocalGateway, emulator: EcsEmulator, tmp_path: Path
) -> None:
    deployment = deploy(gateway, emulator, tmp_path, [{"interval_seconds": 7}])
    gateway.poll_queue(gateway.sqs, gateway.queue_url)  # type: ignore[attr-defined]
    gateway.warm(3)  # measure deliveries, not execution environments starting
    tick = gateway.invoke(load("eventbridge-scheduled-rule.json"))
    assert tick["queued"] >= 2, tick
    with api(gateway) as client:

        def first_two_submitted() -> list[dict[str, Any]] | None:
            runs = client.get("/api/flow-runs", params={"deployment_id": deployment["id"]}).json()
            runs = runs["items"] if isinstance(runs, dict) else runs
            started = sorted(
                (r for r in runs if r["infrastructure"] and r["infrastructure"]["id"]),
                key=lambda r: r["expected_start_time"],
            )
            return started[:2] if len(started) >= 2 else None

        runs = wait_for(first_two_submitted, timeout=40, what="two scheduled runs to be submitted by SQS deliveries")
        for run in runs:
            container = wait_for(lambda r=run: emulator.simulator.get(r["infrastructure"]["id"]), what="its container")
            due = datetime.fromisoformat(run["expected_start_time"]).astimezone(timezone.utc)
            lateness = container.started_at - due.timestamp()
            # Submitted at its time through SQS, not at the next tick a minute later. The bound
            # only separates the two (a loaded 2-core machine adds seconds of start-up);
            # bench/lambda_lateness.py measures the spread.
            assert -0.05 <= lateness < 30, (run["id"], lateness)
        assert final(client, runs[0])["state"]["type"] == "COMPLETED"
    # the handler's JSON log line for each queued dispatch carries the run id as correlation id
    lines = [json.loads(x) for x in gateway.logs().splitlines() if x.startswith('{"level"')]
    dispatched = [line for line in lines if "after its due time" in line["message"]]
    assert dispatched and all(line["correlation_id"] in line["message"] for line in dispatched)
    assert {r["id"] for r in runs} & {line["correlation_id"] for line in dispatched}
    assert gateway.invocations.count("http") > 0
