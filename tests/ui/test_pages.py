"""What the UI pages show, over real HTTP requests to the app (in-process, SQLite and
PostgreSQL): runs filtered and paged by cursor with counts per state, the Run form checked
on the server, and pool secrets masked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from control_plane.local import create_local_app
from control_plane.settings import Settings
from tests.conftest import FLOW_SCHEMA

KEY = "ui-test-key"


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path / "home", database_url=database_url, api_key=KEY, run_loops=False)
    with TestClient(create_local_app(settings), base_url="http://127.0.0.1:4300") as client:
        response = client.post("/ui/login", data={"api_key": KEY})
        assert response.status_code == 200
        client.headers["Authorization"] = f"Bearer {KEY}"  # for the setup calls to /api
        yield client


def deployment(client: TestClient, name: str, pool: str, tags: list[str]) -> dict:
    # Paused: runs created here stay SCHEDULED instead of being dispatched on trigger.
    client.post("/api/pools", json={"name": pool, "type": "process", "paused": True})
    body = {
        "name": name,
        "flow_name": "etl",
        "entrypoint": "etl.py:etl",
        "pool": pool,
        "tags": tags,
        "parameter_schema": FLOW_SCHEMA,
    }
    response = client.post("/api/deployments", json=body)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def run_links(html: str) -> list[str]:
    return re.findall(r'<td><a href="/ui/runs/([0-9a-f-]{36})">', html)


def test_runs_page_filters_counts_and_pages_by_cursor(client: TestClient) -> None:
    nightly = deployment(client, "nightly", "local", ["nightly"])
    adhoc = deployment(client, "adhoc", "other", [])
    nightly_runs = [
        client.post(f"/api/deployments/{nightly['id']}/runs", json={"parameters": {"label": "x"}}).json()
        for _ in range(55)
    ]
    adhoc_run = client.post(f"/api/deployments/{adhoc['id']}/runs", json={"parameters": {"label": "y"}}).json()
    cancelled = {"state": {"type": "CANCELLED", "name": "Cancelled"}, "force": True}
    client.post(f"/api/flow-runs/{adhoc_run['id']}/state", json=cancelled).raise_for_status()

    first = client.get("/ui/runs").text
    assert "SCHEDULED <strong>55</strong>" in re.sub(r"\s+", " ", first.replace("</span>", ""))
    page_one = run_links(first)
    assert len(page_one) == 50 and page_one[0] == adhoc_run["id"]  # newest first
    cursor = re.search(r'href="/ui/runs\?cursor=([^"]+)" rel="next"', first)
    assert cursor
    page_two = run_links(client.get(f"/ui/runs?cursor={cursor.group(1)}").text)
    assert len(page_two) == 6 and not set(page_one) & set(page_two)
    assert set(page_one + page_two) == {r["id"] for r in nightly_runs} | {adhoc_run["id"]}

    assert run_links(client.get("/ui/runs?state=CANCELLED").text) == [adhoc_run["id"]]
    assert run_links(client.get("/ui/runs?pool=other").text) == [adhoc_run["id"]]
    assert run_links(client.get(f"/ui/runs?deployment={adhoc['id']}").text) == [adhoc_run["id"]]
    assert len(run_links(client.get("/ui/runs?tag=nightly").text)) == 50
    assert len(run_links(client.get("/ui/runs?since=1h&state=CANCELLED").text)) == 1
    assert "No runs match" in client.get("/ui/runs?tag=nightly&state=CANCELLED").text
    assert client.get("/ui/runs?cursor=nonsense").status_code == 422


def test_run_form_problems_are_named_and_nothing_is_created(client: TestClient) -> None:
    target = deployment(client, "nightly", "local", [])
    page = client.get(f"/ui/deployments/{target['id']}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf and 'name="param.label"' in page and 'name="param.n"' in page and 'value="3"' in page
    response = client.post(
        f"/ui/deployments/{target['id']}/run", data={"csrf": csrf.group(1), "param.n": "three", "param.label": ""}
    )
    assert response.status_code == 422
    assert "n: &#39;three&#39; is not a whole number" in response.text and "label is required" in response.text
    assert client.get("/api/flow-runs").json()["items"] == []
    response = client.post(
        f"/ui/deployments/{target['id']}/run",
        data={"csrf": csrf.group(1), "param.n": "4", "param.label": "go"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    [run] = client.get("/api/flow-runs").json()["items"]
    assert response.headers["location"] == f"/ui/runs/{run['id']}" and run["parameters"] == {"n": 4, "label": "go"}


def test_pool_page_masks_secrets(client: TestClient) -> None:
    defaults = {"env": {"DB_PASSWORD": "hunter2", "API_TOKEN": "tok-123", "REGION": "eu-west-1"}}
    client.post("/api/pools", json={"name": "local", "type": "process", "defaults": defaults}).raise_for_status()
    page = client.get("/ui/pools/local").text
    assert "hunter2" not in page and "tok-123" not in page
    assert "eu-west-1" in page and "DB_PASSWORD" in page and "(hidden)" in page


def test_pool_pause_and_resume_from_its_page(client: TestClient) -> None:
    client.post("/api/pools", json={"name": "local", "type": "process"}).raise_for_status()
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/ui/pools/local").text)
    assert csrf
    response = client.post("/ui/pools/local/pause", data={"csrf": csrf.group(1), "paused": "true"})
    assert "Pool paused" in response.text and "Resume pool" in response.text
    assert client.get("/api/pools/local").json()["paused"] is True
    client.post("/ui/pools/local/pause", data={"csrf": csrf.group(1), "paused": "false"})
    assert client.get("/api/pools/local").json()["paused"] is False


def test_run_page_links_only_web_console_urls(client: TestClient) -> None:
    from sqlmodel import Session

    from control_plane.models import FlowRun

    target = deployment(client, "nightly", "local", [])
    run = client.post(f"/api/deployments/{target['id']}/runs", json={"parameters": {"label": "x"}}).json()
    engine = client.app.state.services.engine  # type: ignore[attr-defined]
    for url, linked in (("https://console.aws.amazon.com/ecs/task/1", True), ("javascript:alert(1)", False)):
        with Session(engine) as session:
            row = session.get(FlowRun, run["id"])
            assert row is not None
            row.infra_provider, row.infra_id, row.infra_console_url = "ecs", "task/1", url
            session.add(row)
            session.commit()
        page = client.get(f"/ui/runs/{run['id']}").text
        assert (f'href="{url}"' in page) is linked
        assert "javascript:" not in page


def test_events_page_lists_the_event_stream_newest_first_with_kind_filter(client: TestClient) -> None:
    target = deployment(client, "nightly", "local", [])
    run = client.post(f"/api/deployments/{target['id']}/runs", json={"parameters": {"label": "x"}}).json()
    client.post(f"/api/flow-runs/{run['id']}/cancel").raise_for_status()
    page = client.get("/ui/events").text
    assert page.index("pushflow.flow-run.Cancelled") < page.index("pushflow.deployment.created")  # newest first
    assert f'href="/ui/runs/{run["id"]}"' in page and f'href="/ui/deployments/{target["id"]}"' in page
    runs_only = client.get("/ui/events?kind=flow-run").text
    assert "pushflow.flow-run.Scheduled" in runs_only and "pushflow.deployment." not in runs_only
    assert "No events yet" in client.get("/ui/events?before=1").text  # nothing is older than the first
    assert client.get("/ui/events?before=0").status_code == 422


def test_automation_pages_show_firings_and_pause(client: TestClient) -> None:
    from control_plane import passes

    target = deployment(client, "nightly", "local", [])
    body = {
        "name": "pause-on-cancel",
        "trigger": {"type": "event", "expect": ["pushflow.flow-run.Cancelled"]},
        "actions": [{"type": "pause-deployment"}],
    }
    automation = client.post("/api/automations", json=body)
    assert automation.status_code == 201, automation.text
    hook = {
        "name": "webhook-with-secret",
        "trigger": {"type": "event", "expect": ["never.happens"]},
        "actions": [{"type": "call-webhook", "url": "https://example.invalid/hook", "secret": "s3cr3t-value"}],
    }
    client.post("/api/automations", json=hook).raise_for_status()
    run = client.post(f"/api/deployments/{target['id']}/runs", json={"parameters": {"label": "x"}}).json()
    client.post(f"/api/flow-runs/{run['id']}/cancel").raise_for_status()
    passes.tick(client.app.state.services, 10)  # type: ignore[attr-defined]

    listing = client.get("/ui/automations").text
    assert "pause-on-cancel" in listing and "webhook-with-secret" in listing
    page = client.get(f"/ui/automations/{automation.json()['id']}").text
    assert "pause-deployment</code>: ✓ succeeded" in page
    assert client.get(f"/api/deployments/{target['id']}").json()["paused"] is True
    assert "s3cr3t-value" not in client.get("/ui/automations/webhook-with-secret").text

    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    response = client.post(
        f"/ui/automations/{automation.json()['id']}/enabled", data={"csrf": csrf.group(1), "enabled": "false"}
    )
    assert "Automation paused" in response.text and "Resume automation" in response.text
    assert client.get("/api/automations/pause-on-cancel").json()["enabled"] is False
