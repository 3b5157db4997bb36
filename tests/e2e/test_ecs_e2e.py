"""The ecs pool end to end: a real server submits to moto's ECS over HTTP; the emulator's
container simulator runs exactly what was submitted (`pushflow execute` with the
overrides' environment), and the runtime reports back to the server."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import cli, provision_pool
from tests.e2e.handover import hand_over
from tests.emulators.ecs import CREDENTIALS, REGION, EcsEmulator
from tests.helpers import LiveServer, final, trigger, wait_for

FLOWS = textwrap.dedent(
    """
    import time
    from pathlib import Path

    from runtime import flow, task


    @task
    def double(x: int) -> int:
        return 2 * x


    @flow(log_prints=True)
    def doubler(n: int = 3) -> int:
        total = sum(double(i) for i in range(n))
        print(f"total is {total}")
        return total


    @flow
    def boom() -> None:
        raise ValueError("boom from the flow")


    @flow
    def sleeper(started: str) -> None:
        Path(started).write_text("started")
        time.sleep(120)
    """
)


@pytest.fixture(scope="module")
def flows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("flows") / "ecs_flows.py"
    path.write_text(FLOWS)
    return path


@pytest.fixture(scope="module")
def pool(ecs_server: LiveServer) -> str:
    """An `ecs` pool whose cloud side was made by `pushflow pool provision`."""
    provision_pool(ecs_server, "fargate", "ecs", "image=pushflow/flows:e2e")
    again = cli(ecs_server, "pool", "provision", "fargate")  # a second time changes nothing
    assert again.returncode == 0, again.stdout + again.stderr
    assert "cluster pushflow: exists" in again.stdout
    assert "log group /pushflow/runs: exists" in again.stdout
    return "fargate"


def deploy(ecs_server: LiveServer, flows: Path, pool: str, flow_fn: str) -> dict[str, Any]:
    done = cli(ecs_server, "deploy", f"{flows}:{flow_fn}", "--name", "e2e", "--pool", pool)
    assert done.returncode == 0, done.stdout + done.stderr
    flow_name = flow_fn.replace("_", "-")
    return ecs_server.client().get(f"/api/deployments/by-name/{flow_name}/e2e").json()  # type: ignore[no-any-return]


def test_a_triggered_run_completes_on_ecs_with_task_runs(
    ecs_server: LiveServer, ecs_emulator: EcsEmulator, flows: Path, pool: str
) -> None:
    api = ecs_server.client()
    run = trigger(api, deploy(ecs_server, flows, pool, "doubler"), n=3)
    done = final(api, run)
    assert done["state"]["type"] == "COMPLETED", done["state"]
    assert done["infrastructure"]["provider"] == "ecs"
    task_arn = done["infrastructure"]["id"]
    assert task_arn.startswith("arn:aws:ecs:us-east-1:")
    task_runs = api.get(f"/api/flow-runs/{run['id']}/task-runs").json()
    assert sorted(t["name"] for t in task_runs) == ["double-0", "double-1", "double-2"]
    assert {t["state"]["type"] for t in task_runs} == {"COMPLETED"}
    # what ran is what was submitted: the default command, through moto
    container = ecs_emulator.simulator.get(task_arn)
    assert container is not None and container.command == ["pushflow", "execute"]
    assert container.env["PUSHFLOW_FLOW_RUN_ID"] == run["id"]
    logs = "\n".join(e["message"] for e in api.get(f"/api/flow-runs/{run['id']}/logs").json())
    assert "total is 6" in logs


def test_a_failing_flow_is_failed_and_a_failing_container_crashed(
    ecs_server: LiveServer, flows: Path, pool: str
) -> None:
    api = ecs_server.client()
    failed = final(api, trigger(api, deploy(ecs_server, flows, pool, "boom")))
    assert failed["state"]["type"] == "FAILED"
    assert "boom from the flow" in (failed["state"]["message"] or "")

    deployment = deploy(ecs_server, flows, pool, "doubler")
    response = api.post(
        f"/api/deployments/{deployment['id']}/runs",
        json={"job_variables": {"command": ["python", "-c", "raise SystemExit(7)"]}},
    )
    crashed = final(api, response.json())
    assert crashed["state"]["type"] == "CRASHED"
    assert "exited with code 7" in crashed["state"]["message"]


def test_an_image_that_cannot_be_pulled_crashes_the_run_and_shows_in_its_logs(
    ecs_server: LiveServer, ecs_emulator: EcsEmulator, flows: Path, pool: str
) -> None:
    ecs_emulator.pull_errors["pushflow/missing:1"] = (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
        "failed to resolve ref docker.io/pushflow/missing:1: not found"
    )
    api = ecs_server.client()
    deployment = deploy(ecs_server, flows, pool, "doubler")
    response = api.post(
        f"/api/deployments/{deployment['id']}/runs",
        json={"job_variables": {"image": "pushflow/missing:1"}},
    )
    crashed = final(api, response.json())
    assert crashed["state"]["type"] == "CRASHED"
    assert "TaskFailedToStart" in crashed["state"]["message"]
    assert "docker.io/pushflow/missing:1: not found" in crashed["state"]["message"]
    shown = cli(ecs_server, "runs", "logs", crashed["id"])
    assert shown.returncode == 0, shown.stderr
    assert "No logs from the run itself" in shown.stderr
    assert "CannotPullContainerError" in shown.stdout


def test_cancel_while_running_stops_the_task(
    ecs_server: LiveServer, ecs_emulator: EcsEmulator, flows: Path, pool: str, tmp_path: Path
) -> None:
    api = ecs_server.client()
    started = tmp_path / "started"
    run = trigger(api, deploy(ecs_server, flows, pool, "sleeper"), started=str(started))
    wait_for(started.exists, timeout=60, what="the flow to start in its container")
    wait_for(
        lambda: api.get(f"/api/flow-runs/{run['id']}").json()["state"]["type"] == "RUNNING",
        what="the run to be RUNNING",
    )
    assert api.post(f"/api/flow-runs/{run['id']}/cancel").status_code < 300
    done = final(api, run)
    assert done["state"]["type"] == "CANCELLED"
    task_arn = done["infrastructure"]["id"]

    def stopped_task() -> dict[str, Any] | None:
        task = ecs_emulator.client("ecs").describe_tasks(cluster="pushflow", tasks=[task_arn])["tasks"][0]
        return task if task["lastStatus"] == "STOPPED" else None

    task = wait_for(stopped_task, what="the ECS task to be stopped")
    assert task["stopCode"] == "UserInitiated"
    assert task["containers"][0]["exitCode"] != 0


def test_a_second_control_plane_with_an_empty_home_finishes_cancels_and_cleans_up(
    ecs_emulator: EcsEmulator, tmp_path: Path, pg_schema_url: str
) -> None:
    ecs_emulator.ensure_cluster_and_log_group("handover", "/pushflow/handover")
    defaults = {
        "image": "pushflow/flows:handover",
        "cluster": "handover",
        "subnets": [ecs_emulator.default_subnet()],
        "region": REGION,
        "endpoint_url": ecs_emulator.url,  # in the job, not the environment: the locator carries it
        "log_group": "/pushflow/handover",
        "execution_role_arn": "arn:aws:iam::123456789012:role/pushflow-execution",
        "run_token_secret_prefix": "pushflow/handover/",
    }
    ecs, secrets = ecs_emulator.client("ecs"), ecs_emulator.client("secretsmanager")

    def nothing_left() -> bool:
        arns = ecs.list_tasks(cluster="handover", desiredStatus="RUNNING")["taskArns"]
        names = [s["Name"] for s in secrets.list_secrets()["SecretList"]]
        revisions = ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
        per_run = [r for r in revisions if _has_secrets(ecs, r)]
        return not arns and not [n for n in names if n.startswith("pushflow/handover/")] and not per_run

    attempts = hand_over(tmp_path, pg_schema_url, "ecs", defaults, dict(CREDENTIALS), nothing_left)
    assert {a["provider"] for a in attempts} == {"ecs"}


def _has_secrets(ecs: Any, revision: str) -> bool:
    definition = ecs.describe_task_definition(taskDefinition=revision)["taskDefinition"]
    return bool(definition["containerDefinitions"][0].get("secrets"))
