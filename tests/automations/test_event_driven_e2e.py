"""Event-driven runs end to end: a real server process, the process pool, signed
webhooks in, signed webhooks out, a proactive trigger on the real clock."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from control_plane.signatures import standard_headers
from runtime.flows import FlowFunction
from runtime.loading import load_entrypoint
from tests.automations.receiver import Receiver
from tests.helpers import LiveServer, final, wait_for

FLOWS = Path(__file__).parent.parent / "flows"
SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("automations") / "home") as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> httpx.Client:
    return server.client()


def deploy(api: httpx.Client, entrypoint: str, name: str, **extra: Any) -> dict:
    api.post("/api/pools", json={"name": "local", "type": "process"})
    flow = load_entrypoint(entrypoint, str(FLOWS))
    assert isinstance(flow, FlowFunction)
    body = {
        "name": name,
        "flow_name": flow.name,
        "entrypoint": entrypoint,
        "working_dir": str(FLOWS),
        "pool": "local",
        "parameter_schema": flow.parameter_schema(),
        **extra,
    }
    response = api.post("/api/deployments", json=body)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def runs_of(api: httpx.Client, deployment: dict) -> list[dict]:
    items = api.get("/api/flow-runs", params={"limit": 100}).json()["items"]
    return [r for r in items if r["deployment_id"] == deployment["id"]]


def test_signed_webhook_starts_a_templated_run_that_completes_once(api: httpx.Client) -> None:
    deployment = deploy(api, "etl.py:etl", "on-order")
    hook = api.post(
        "/api/webhooks",
        json={
            "name": "orders",
            "signature": "standard-webhooks",
            "secret": SECRET,
            "template": '{"event": "acme.order.placed", "resource": {"id": "acme.order.{{ body.order }}"}, '
            '"payload": {"rows": {{ body.rows }}}}',
        },
    ).json()
    api.post(
        "/api/automations",
        json={
            "name": "run-on-order",
            "trigger": {"expect": ["acme.order.placed"]},
            "actions": [
                {
                    "type": "run-deployment",
                    "deployment": "etl/on-order",
                    "parameters": {"n": "{{ event.payload.rows }}"},
                }
            ],
        },
    ).raise_for_status()
    body = b'{"order": 42, "rows": 4}'
    signed = {"Content-Type": "application/json", **standard_headers(SECRET, "msg_order_42", body)}
    unsigned = api.post(hook["path"], content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert api.post(hook["path"], content=body, headers=signed).status_code == 204
    assert api.post(hook["path"], content=body, headers=signed).status_code == 204  # replayed

    [run] = wait_for(lambda: runs_of(api, deployment), what="the automation's run")
    done = final(api, run)
    assert done["state"]["type"] == "COMPLETED", done["state"]
    assert done["parameters"] == {"n": 4}
    logs = [entry["message"] for entry in api.get(f"/api/flow-runs/{run['id']}/logs").json()]
    assert "total is 60" in logs  # (0+1+2+3) * 10: the templated parameter reached the flow
    assert len(api.get("/api/events", params={"event": "acme.order.*"}).json()["items"]) == 1
    [firing] = api.get("/api/automations/run-on-order/firings").json()
    assert firing["actions"][0]["status"] == "succeeded"
    assert len(runs_of(api, deployment)) == 1


def test_a_proactive_trigger_fires_when_nothing_arrives_and_not_when_it_does(api: httpx.Client) -> None:
    api.post(
        "/api/automations",
        json={
            "name": "job-must-finish",
            "trigger": {
                "posture": "proactive",
                "after": ["acme.job.started"],
                "expect": ["acme.job.finished"],
                "for_each": ["id"],
                "within": 2,  # "Completed within 10 s", shortened for the test
            },
            "actions": [{"type": "pause-automation", "target": "nothing-to-pause"}],
        },
    ).raise_for_status()

    def send(name: str, job: str) -> None:
        api.post("/api/events", json={"event": name, "resource": {"id": job}}).raise_for_status()

    send("acme.job.started", "acme.job.on-time")
    send("acme.job.started", "acme.job.silent")
    send("acme.job.finished", "acme.job.on-time")
    firings = wait_for(
        lambda: api.get("/api/automations/job-must-finish/firings").json(), timeout=30, what="the proactive firing"
    )
    assert [f["event"]["resource"]["id"] for f in firings] == ["acme.job.silent"]
    assert "saw 0" in firings[0]["reason"]


def test_a_failed_prod_run_calls_a_signed_webhook(api: httpx.Client) -> None:
    prod = deploy(api, "failing.py:failing", "prod", tags=["env=prod"])
    dev = deploy(api, "failing.py:failing", "dev", tags=["env=dev"])
    with Receiver(SECRET) as receiver:
        api.post(
            "/api/automations",
            json={
                "name": "prod-failures",
                "trigger": {"expect": ["pushflow.flow-run.Failed"], "match": {"env": "prod"}},
                "actions": [{"type": "call-webhook", "url": receiver.url, "secret": SECRET}],
            },
        ).raise_for_status()
        dev_run = api.post(f"/api/deployments/{dev['id']}/runs", json={}).json()
        assert final(api, dev_run)["state"]["type"] == "FAILED"
        prod_run = api.post(f"/api/deployments/{prod['id']}/runs", json={}).json()
        assert final(api, prod_run)["state"]["type"] == "FAILED"
        [delivery] = wait_for(lambda: list(receiver.received), what="the signed POST")
    assert delivery["verified"] is True
    assert delivery["body"]["event"]["resource"]["id"] == f"pushflow.flow-run.{prod_run['id']}"
    assert delivery["body"]["automation"]["name"] == "prod-failures"
    [firing] = api.get("/api/automations/prod-failures/firings").json()
    assert firing["actions"][0]["status"] == "succeeded"


def test_emit_event_inside_a_deployed_run_uses_the_run_s_token(api: httpx.Client) -> None:
    deployment = deploy(api, "emitting.py:emitting", "emits")
    run = api.post(f"/api/deployments/{deployment['id']}/runs", json={"parameters": {"key": "b.csv"}}).json()
    assert final(api, run)["state"]["type"] == "COMPLETED"
    [event] = api.get("/api/events", params={"event": "acme.file.processed"}).json()["items"]
    assert event["payload"] == {"key": "b.csv"}
    assert event["resource"] == {"id": "acme.bucket.out", "labels": {"env": "test"}}
    assert {"id": f"pushflow.flow-run.{run['id']}", "role": "flow-run"} in event["related"]
