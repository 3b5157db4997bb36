"""Scoped keys in the UI, in a real browser against a real server process: a `read` key
sees disabled actions, a `run` key triggers a run (recorded in the audit log under its
name), and revoking the key signs its browser out at the next page."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.helpers import LiveServer
from tests.ui.conftest import SHARED_FLOWS, deploy, sign_in


def test_scoped_keys_in_the_browser(page: Any, server: LiveServer) -> None:
    api = server.client()
    etl = deploy(api, "etl.py:etl", SHARED_FLOWS)
    api.patch("/api/pools/local", json={"paused": True}).raise_for_status()  # the run waits; the UI is what is tested
    viewer = api.post("/api/keys", json={"name": "viewer", "scope": "read"}).json()["key"]
    runner = api.post("/api/keys", json={"name": "runner", "scope": "run"}).json()["key"]

    sign_in(page, viewer)
    expect(page.locator(".who")).to_contain_text("Signed in as viewer (read")
    page.goto(f"/ui/deployments/{etl['id']}")
    expect(page.get_by_role("button", name="Run now")).to_be_disabled()
    expect(page.get_by_role("button", name="Pause deployment")).to_be_disabled()
    page.shots.take("read-key-deployment")

    api.delete("/api/keys/viewer").raise_for_status()
    page.reload()
    expect(page.get_by_role("alert")).to_contain_text("its API key was revoked")
    page.shots.take("revoked")

    sign_in(page, runner)
    page.goto(f"/ui/deployments/{etl['id']}")
    expect(page.get_by_role("button", name="Pause deployment")).to_be_disabled()
    page.locator('[name="param.n"]').fill("5")
    page.get_by_role("button", name="Run now").click()
    expect(page).to_have_url(re.compile(r"/ui/runs/[0-9a-f-]{36}"))
    expect(page.get_by_role("button", name="Cancel run")).to_be_enabled()
    page.shots.take("run-key-triggered")

    runs = api.get("/api/flow-runs", params={"deployment_id": etl["id"]}).json()["items"]
    assert [r["parameters"]["n"] for r in runs] == [5]
    audit = api.get("/api/audit").json()
    rows = [(e["actor"], e["route"], e["status"]) for e in audit]
    assert ("runner", "/ui/deployments/{deployment_id}/run", 303) in rows
