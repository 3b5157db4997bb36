"""The cloud-run pool end to end: a real server process pushes runs through the real
google-cloud-run client to the fake Cloud Run API; the container simulator runs exactly
what was submitted (`pushflow execute` and its env), which reports back over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import FLOWS
from tests.e2e.handover import hand_over
from tests.emulators.cloud_run import FakeCloudRun
from tests.helpers import LiveServer, final, trigger, wait_for
from tests.simulator import ContainerSimulator

IMAGE = "europe-docker.pkg.dev/demo-project/flows/runtime:1"


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeCloudRun]:
    fake = FakeCloudRun(ContainerSimulator(tmp_path / "containers")).start()
    yield fake
    fake.stop()


@pytest.fixture
def api(server: LiveServer, fake: FakeCloudRun) -> Iterator[httpx.Client]:
    client = server.client()
    defaults = {
        "project": "demo-project",
        "region": "europe-west1",
        "image": IMAGE,
        "api_endpoint": fake.endpoint,
        "logging_endpoint": fake.endpoint,
        "credentials": "anonymous",
    }
    created = client.post("/api/pools", json={"name": "gcp", "type": "cloud-run", "defaults": defaults})
    if created.status_code == 409:  # made by an earlier test on the module's server: point it at this fake
        client.patch("/api/pools/gcp", json={"defaults": defaults}).raise_for_status()
    else:
        created.raise_for_status()
    yield client
    client.close()


def deploy(server: LiveServer, entrypoint: str, *job_vars: str) -> dict:
    """`pushflow deploy` like a user, then read the deployment back over the API."""
    args = [
        sys.executable,
        "-m",
        "pushflow_cli",
        "deploy",
        str(FLOWS / entrypoint),
        "--name",
        "cloud",
        "--pool",
        "gcp",
        *[a for v in job_vars for a in ("--job-var", v)],
    ]
    env = {
        **os.environ,
        "PUSHFLOW_API_URL": server.url,
        "PUSHFLOW_API_KEY": server.api_key,
        "PUSHFLOW_HOME": str(server.home),
    }
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    flow_name = entrypoint.split(":")[1]
    with server.client() as api:
        response = api.get(f"/api/deployments/by-name/{flow_name}/cloud")
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]


def no_job_left(fake: FakeCloudRun) -> None:
    wait_for(lambda: not fake.jobs, timeout=30, what="every Cloud Run job to be deleted")


def test_triggered_run_completes_on_cloud_run(server: LiveServer, api: httpx.Client, fake: FakeCloudRun) -> None:
    run = trigger(api, deploy(server, "etl.py:etl"), n=4)
    done = final(api, run)
    assert done["state"]["type"] == "COMPLETED", done["state"]
    task_runs = api.get(f"/api/flow-runs/{run['id']}/task-runs").json()
    assert sorted(t["name"] for t in task_runs) == ["extract-0", "load-0", "transform-0"]
    infra = done["infrastructure"]
    assert infra["provider"] == "cloud-run"
    assert "console.cloud.google.com/run/jobs/executions" in infra["console_url"]
    (container,) = fake.simulator.containers.values()  # what Cloud Run was really asked to run
    assert container.command == ["pushflow", "execute"]
    assert container.env["PUSHFLOW_FLOW_RUN_ID"] == run["id"]
    assert container.env["PUSHFLOW_RUN_TOKEN"].startswith("pfr_")
    no_job_left(fake)


def test_non_zero_exit_is_crashed_with_the_reason(server: LiveServer, api: httpx.Client, fake: FakeCloudRun) -> None:
    deployment = deploy(server, "etl.py:etl")
    run = trigger(api, deployment, {"command": [sys.executable, "-c", "raise SystemExit(7)"]})
    done = final(api, run)
    assert done["state"]["type"] == "CRASHED"
    assert "container exited with code 7" in done["state"]["message"]
    assert "The container exited with an error" in done["state"]["message"]
    no_job_left(fake)


def test_image_not_found_is_crashed_naming_the_image(server: LiveServer, api: httpx.Client, fake: FakeCloudRun) -> None:
    fake.missing_images.add("europe-docker.pkg.dev/demo-project/flows/typo:1")
    run = trigger(api, deploy(server, "etl.py:etl", "image=europe-docker.pkg.dev/demo-project/flows/typo:1"))
    done = final(api, run)
    assert done["state"]["type"] == "CRASHED"
    assert "Image 'europe-docker.pkg.dev/demo-project/flows/typo:1' not found" in done["state"]["message"]
    # the job a failed create leaves behind is released like any ended attempt
    wait_for(lambda: not fake.jobs, timeout=30, what="the failed create's job to be deleted")


def test_transient_unavailability_is_retried(server: LiveServer, api: httpx.Client, fake: FakeCloudRun) -> None:
    deployment = deploy(server, "etl.py:etl")
    fake.inject(503, times=2, method="POST", path_contains="/jobs")
    done = final(api, trigger(api, deployment))
    assert done["state"]["type"] == "COMPLETED", done["state"]
    assert len(fake.simulator.containers) == 1  # retried submits started it once
    no_job_left(fake)


def test_cancel_stops_the_execution(server: LiveServer, api: httpx.Client, fake: FakeCloudRun, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    run = trigger(api, deploy(server, "sleepy.py:sleepy"), pid_file=str(pid_file))
    wait_for(pid_file.exists, timeout=60, what="the flow to start in its container")
    wait_for(
        lambda: api.get(f"/api/flow-runs/{run['id']}").json()["state"]["type"] == "RUNNING",
        what="the run to be RUNNING",
    )
    api.post(f"/api/flow-runs/{run['id']}/cancel").raise_for_status()
    done = final(api, run)
    assert done["state"]["type"] == "CANCELLED"
    assert any(m == "POST" and p.endswith(":cancel") for m, p in fake.requests)
    no_job_left(fake)


def test_a_second_control_plane_with_an_empty_home_finishes_cancels_and_cleans_up(
    tmp_path: Path, pg_schema_url: str
) -> None:
    fake = FakeCloudRun(ContainerSimulator(tmp_path / "handover-containers")).start()
    try:
        defaults = {
            "project": "demo-project",
            "region": "europe-west1",
            "image": IMAGE,
            "api_endpoint": fake.endpoint,
            "logging_endpoint": fake.endpoint,
            "credentials": "anonymous",
        }
        attempts = hand_over(tmp_path, pg_schema_url, "cloud-run", defaults, {}, lambda: not fake.jobs)
        assert [a["number"] for a in attempts] == [1, 1]
    finally:
        fake.stop()
