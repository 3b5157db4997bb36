"""The aci pool end to end: a real server process pushes runs through the real
azure-mgmt-containerinstance client, over TLS, to the ARM fake; the container simulator
runs exactly what was submitted (`pushflow execute` and its env, the run token from its
secureValue), which reports back over HTTP.

The server trusts the fake's certificate through the pool's `ca_bundle` job variable and
authenticates with `credential = "tests.emulators.aci:fake_credential"` (a factory)."""

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
from tests.emulators.aci import AciFake
from tests.helpers import LiveServer, final, trigger, wait_for
from tests.simulator import ContainerSimulator

IMAGE = "pushflowdemo.azurecr.io/flows/runtime:1"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[AciFake]:
    simulator = ContainerSimulator(tmp_path / "containers")
    try:
        with AciFake(simulator, tmp_path / "tls") as fake:
            yield fake
    finally:
        simulator.stop_all()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # PYTHONPATH: the server imports the test credential factory named in the pool.
    home = tmp_path_factory.mktemp("server") / "home"
    live = LiveServer(home, extra_env={"PYTHONPATH": str(REPO)}).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def api(server: LiveServer, fake: AciFake) -> Iterator[httpx.Client]:
    client = server.client()
    defaults = {
        "subscription_id": "00000000-0000-0000-0000-0000000000aa",
        "resource_group": "flows",
        "location": "westeurope",
        "image": IMAGE,
        "base_url": fake.url,
        "ca_bundle": fake.ca_bundle,
        "credential": "tests.emulators.aci:fake_credential",
        "polling_interval": 0.2,
    }
    created = client.post("/api/pools", json={"name": "azure", "type": "aci", "defaults": defaults})
    if created.status_code == 409:  # made by an earlier test on the module's server: point it at this fake
        client.patch("/api/pools/azure", json={"defaults": defaults}).raise_for_status()
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
        "aci",
        "--pool",
        "azure",
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
    with server.client() as api:
        response = api.get(f"/api/deployments/by-name/{entrypoint.split(':')[1]}/aci")
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]


def no_group_left(fake: AciFake) -> None:
    wait_for(lambda: not fake.live_groups(), timeout=30, what="every container group to be deleted")


def test_triggered_run_completes_on_aci(server: LiveServer, api: httpx.Client, fake: AciFake) -> None:
    run = trigger(api, deploy(server, "etl.py:etl"), n=4)
    done = final(api, run)
    assert done["state"]["type"] == "COMPLETED", done["state"]
    task_runs = api.get(f"/api/flow-runs/{run['id']}/task-runs").json()
    assert sorted(t["name"] for t in task_runs) == ["extract-0", "load-0", "transform-0"]
    infra = done["infrastructure"]
    assert infra["provider"] == "aci"
    assert infra["id"].endswith(f"/containerGroups/pushflow-{run['id']}")
    assert infra["console_url"].startswith("https://portal.azure.com/")
    (submitted,) = fake.submissions
    env = {e["name"]: e for e in submitted["properties"]["containers"][0]["properties"]["environmentVariables"]}
    assert env["PUSHFLOW_RUN_TOKEN"]["secureValue"].startswith("pfr_")
    assert "value" not in env["PUSHFLOW_RUN_TOKEN"]
    (container,) = fake.simulator.containers.values()  # what ACI was really asked to run
    assert container.command == ["pushflow", "execute"]
    assert container.env["PUSHFLOW_FLOW_RUN_ID"] == run["id"]
    # the control plane read ACI's real event sequence for a healthy container and kept it running
    assert fake.events_served[infra["id"].rsplit("/", 1)[1]] == ["Pulling", "Pulled", "Created", "Started"]
    no_group_left(fake)


def test_a_failing_flow_is_failed_not_crashed(server: LiveServer, api: httpx.Client, fake: AciFake) -> None:
    done = final(api, trigger(api, deploy(server, "failing.py:failing")))
    assert done["state"]["type"] == "FAILED", done["state"]
    no_group_left(fake)


def test_non_zero_exit_is_crashed_with_the_exit_code(server: LiveServer, api: httpx.Client, fake: AciFake) -> None:
    run = trigger(
        api,
        deploy(server, "etl.py:etl"),
        {"command": [sys.executable, "-c", "raise SystemExit(7)"]},
    )
    done = final(api, run)
    assert done["state"]["type"] == "CRASHED"
    assert "terminated with exit code 7" in done["state"]["message"]
    no_group_left(fake)


def test_image_pull_error_is_crashed_naming_the_image(server: LiveServer, api: httpx.Client, fake: AciFake) -> None:
    fake.unpullable_images.add("pushflowdemo.azurecr.io/flows/typo:1")
    run = trigger(api, deploy(server, "etl.py:etl", "image=pushflowdemo.azurecr.io/flows/typo:1"))
    done = final(api, run)
    assert done["state"]["type"] == "CRASHED"
    assert "could not pull its image 'pushflowdemo.azurecr.io/flows/typo:1'" in done["state"]["message"]
    assert "Failed to pull image" in done["state"]["message"]
    assert not fake.simulator.containers
    no_group_left(fake)


def test_transient_503_is_retried(server: LiveServer, api: httpx.Client, fake: AciFake) -> None:
    deployment = deploy(server, "etl.py:etl")
    fake.fail_next(503, times=2, method="PUT")
    fake.fail_next(503, times=1, method="GET")
    done = final(api, trigger(api, deployment))
    assert done["state"]["type"] == "COMPLETED", done["state"]
    assert len(fake.injected) == 3
    assert len(fake.simulator.containers) == 1  # retried requests started it once
    no_group_left(fake)


def test_cancel_stops_and_deletes_the_group(
    server: LiveServer, api: httpx.Client, fake: AciFake, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    run = trigger(api, deploy(server, "sleepy.py:sleepy"), pid_file=str(pid_file))
    wait_for(pid_file.exists, timeout=60, what="the flow to start in its container")
    wait_for(
        lambda: api.get(f"/api/flow-runs/{run['id']}").json()["state"]["type"] == "RUNNING",
        what="the run to be RUNNING",
    )
    api.post(f"/api/flow-runs/{run['id']}/cancel").raise_for_status()
    done = final(api, run)
    assert done["state"]["type"] == "CANCELLED", done["state"]
    assert ("POST", f"{done['infrastructure']['id']}/stop") in fake.requests
    (container,) = fake.simulator.containers.values()
    # The runtime reports CANCELLED on SIGTERM, and may still be exiting when it does.
    wait_for(lambda: container.exit_code is not None, what="the cancelled container to exit")
    no_group_left(fake)


def test_a_second_control_plane_with_an_empty_home_finishes_cancels_and_cleans_up(
    fake: AciFake, tmp_path: Path, pg_schema_url: str
) -> None:
    defaults = {
        "subscription_id": "00000000-0000-0000-0000-0000000000aa",
        "resource_group": "flows",
        "location": "westeurope",
        "image": IMAGE,
        "base_url": fake.url,
        "ca_bundle": fake.ca_bundle,
        "polling_interval": 0.2,
    }
    # The credential is chosen by the environment, not by an importable factory.
    env = {"PUSHFLOW_AZURE_CREDENTIAL": "access_token", "PUSHFLOW_AZURE_ACCESS_TOKEN": "token-from-the-environment"}
    attempts = hand_over(tmp_path, pg_schema_url, "aci", defaults, env, lambda: not fake.live_groups())
    assert all(a["id"].startswith("/subscriptions/") for a in attempts)
