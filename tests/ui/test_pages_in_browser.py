"""Every page in a real browser, with a screenshot of each: nothing loads from another
host (no CDN, /api/docs included), and the pages work from the keyboard."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.helpers import LiveServer, final, trigger
from tests.ui.conftest import SHARED_FLOWS, deploy, sign_in


def test_every_page_renders_from_local_assets(page: Any, server: LiveServer) -> None:
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    api = server.client()
    etl = deploy(api, "etl.py:etl", SHARED_FLOWS, tags=["nightly"], schedules=[{"cron": "0 3 * * *"}])
    api.patch("/api/pools/local", json={"defaults": {"env": {"WAREHOUSE_PASSWORD": "hunter2"}}}).raise_for_status()
    automation = {
        "name": "pause-on-crash",
        "trigger": {"type": "event", "expect": ["pushflow.flow-run.Crashed"]},
        "actions": [{"type": "pause-deployment"}],
    }
    api.post("/api/automations", json=automation).raise_for_status()
    run = final(api, trigger(api, etl, n=4))
    assert run["state"]["type"] == "COMPLETED"

    sign_in(page, server.api_key or "")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("svg.bars rect.s-COMPLETED")).to_have_count(1)
    page.shots.take("dashboard")

    page.get_by_role("link", name="Runs", exact=True).click()
    expect(page.get_by_role("link", name=run["name"])).to_be_visible()
    page.shots.take("runs")

    page.get_by_role("link", name=run["name"]).click()
    expect(page.locator("svg.gantt rect.s-COMPLETED")).to_have_count(3)
    expect(page.locator("#log-lines")).to_contain_text("loaded 4 rows")
    page.shots.take("run")

    page.get_by_role("link", name="Deployments").first.click()
    expect(page.get_by_role("cell", name="cron 0 3 * * * (UTC)")).to_be_visible()
    page.shots.take("deployments")
    page.get_by_role("link", name="etl/ui").click()
    expect(page.get_by_role("button", name="Run now")).to_be_visible()
    page.get_by_role("button", name="Pause deployment").click()
    expect(page.locator(".notice")).to_contain_text("Deployment paused")
    expect(page.get_by_role("button", name="Resume deployment")).to_be_visible()
    assert api.get(f"/api/deployments/{etl['id']}").json()["paused"] is True
    page.shots.take("deployment")

    page.get_by_role("link", name="Pools").click()
    page.shots.take("pools")
    page.get_by_role("link", name="local").click()
    expect(page.get_by_role("cell", name="env", exact=True)).to_be_visible()
    assert "hunter2" not in page.content()
    page.shots.take("pool")

    page.get_by_role("link", name="Events").click()
    expect(page.get_by_role("cell", name="pushflow.flow-run.Completed")).to_be_visible()
    page.shots.take("events")

    page.get_by_role("link", name="Automations").click()
    page.get_by_role("link", name="pause-on-crash").click()
    expect(page.get_by_role("button", name="Pause automation")).to_be_visible()
    page.shots.take("automation")

    page.get_by_role("link", name="API docs").click()
    expect(page.get_by_role("heading", name="pushflow")).to_be_visible()
    page.shots.take("api-docs")
    assert hosts == {urlsplit(server.url).netloc}, hosts


def test_keyboard_reaches_skip_link_navigation_and_actions(page: Any, server: LiveServer) -> None:
    sign_in(page, server.api_key or "")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Runs", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url("/ui/runs")
    page.get_by_role("combobox", name=re.compile("^State")).focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("combobox", name=re.compile("^Deployment"))).to_be_focused()


def test_dashboard_and_runs_page_follow_runs_without_reloading(page: Any, server: LiveServer) -> None:
    api = server.client()
    etl = deploy(api, "etl.py:etl", SHARED_FLOWS)
    sign_in(page, server.api_key or "")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    first = trigger(api, etl, n=1)
    expect(page.locator("svg.bars rect.s-COMPLETED")).to_have_count(1)
    assert page.url.endswith("/ui")
    page.goto("/ui/runs")
    expect(page.get_by_role("link", name=first["name"])).to_be_visible()
    run = trigger(api, etl, n=2)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=run["name"]))
    expect(row).to_contain_text("COMPLETED")
    expect(page.get_by_role("list", name="Runs per state")).to_contain_text("COMPLETED 2")
    assert page.url.endswith("/ui/runs")
