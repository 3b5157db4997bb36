"""The UI in a real browser: sign-in, a run triggered from the Run form followed live to
COMPLETED, a crashed run's reason, and cancelling a running run."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.helpers import LiveServer, trigger, wait_for
from tests.ui.conftest import FLOWS, SHARED_FLOWS, deploy, sign_in


def state_badge(page: Any) -> Any:
    return page.locator("#run-state")


def test_sign_in_with_the_key_and_a_wrong_key_shows_an_error(page: Any, server: LiveServer) -> None:
    page.goto("/ui/runs")
    expect(page).to_have_url("/ui/login?next=%2Fui%2Fruns")
    page.get_by_label("API key").fill("not-the-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("That API key is not valid")
    page.shots.take("wrong-key")
    page.get_by_label("API key").fill(server.api_key or "")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url("/ui/runs")  # back where the user was going
    expect(page.get_by_role("heading", name="Runs")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "pushflow_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert server.api_key not in cookie["value"]
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url("/ui/login")
    page.goto("/ui/runs")
    expect(page).to_have_url("/ui/login?next=%2Fui%2Fruns")


def test_run_from_the_form_is_followed_live_to_completed(page: Any, server: LiveServer, tmp_path: Path) -> None:
    api = server.client()
    deployment = deploy(api, "gated.py:gated", FLOWS)
    # A paused pool holds the run in SCHEDULED until the test resumes it.
    api.patch("/api/pools/local", json={"paused": True}).raise_for_status()
    sign_in(page, server.api_key or "")
    page.goto(f"/ui/deployments/{deployment['id']}")
    gate = page.get_by_label(re.compile(r"^Gate\b"))
    n = page.get_by_label(re.compile(r"^N\b"))
    expect(n).to_have_value("2")  # the flow's default
    page.get_by_role("button", name="Run now").click()
    # Checked before submitting: the required field says so, and nothing was created.
    expect(page.locator("#p-gate-error")).not_to_be_empty()
    expect(gate).to_have_attribute("aria-invalid", "true")
    page.shots.take("run-form-invalid")
    assert api.get("/api/flow-runs").json()["items"] == []

    gate_file = tmp_path / "gate"
    gate.fill(str(gate_file))
    n.fill("3")
    page.get_by_role("button", name="Run now").click()
    page.wait_for_url("**/ui/runs/*")
    run_url = page.url
    expect(state_badge(page)).to_contain_text("SCHEDULED")
    run_id = run_url.rsplit("/", 1)[1]
    assert api.get(f"/api/flow-runs/{run_id}").json()["parameters"] == {"gate": str(gate_file), "n": 3}
    page.shots.take("scheduled")

    api.patch("/api/pools/local", json={"paused": False}).raise_for_status()
    expect(state_badge(page)).to_contain_text("RUNNING")
    gantt = page.locator("svg.gantt")
    expect(gantt).to_contain_text("square ×3 (mapped)")
    expect(gantt.locator("rect.s-COMPLETED")).to_have_count(3)
    expect(page.locator("#log-lines")).to_contain_text("waiting for the gate")
    page.shots.take("running")

    gate_file.touch()
    expect(state_badge(page)).to_contain_text("COMPLETED")
    expect(gantt).to_contain_text("total-0")
    expect(page.locator("#log-lines")).to_contain_text("gate opened; total is 5")
    assert page.url == run_url  # followed without a reload
    expect(page.locator("#live-announce")).to_have_text("Run is now COMPLETED")  # for screen readers
    changes = page.get_by_role("region", name="State changes").get_by_role("listitem")
    expect(changes.first).to_contain_text("SCHEDULED")
    expect(changes.last).to_contain_text("RUNNING")
    expect(changes.last).to_contain_text("COMPLETED")
    # The level filter and the search narrow the panel.
    page.get_by_label("Level").select_option("30")
    expect(page.locator("#log-lines li:visible")).to_have_count(1)
    page.get_by_label("Level").select_option("0")
    page.get_by_label("Search").fill("squared 2")
    expect(page.locator("#log-lines li:visible")).to_have_count(1)
    page.get_by_label("Search").fill("")
    page.shots.take("completed")


def open_running_sleepy(page: Any, server: LiveServer, tmp_path: Path) -> tuple[dict, int]:
    """Trigger tests/flows/sleepy.py over the API, open its page, wait until the page says
    RUNNING; returns the run and the flow's process id."""
    api = server.client()
    pid_file = tmp_path / "pid"
    run = trigger(api, deploy(api, "sleepy.py:sleepy", SHARED_FLOWS), pid_file=str(pid_file))
    sign_in(page, server.api_key or "")
    page.goto(f"/ui/runs/{run['id']}")
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the flow to start"))
    expect(state_badge(page)).to_contain_text("RUNNING")
    return run, pid


def test_crashed_run_shows_crashed_and_the_reason(page: Any, server: LiveServer, tmp_path: Path) -> None:
    _, pid = open_running_sleepy(page, server, tmp_path)
    os.kill(pid, signal.SIGKILL)
    expect(state_badge(page)).to_contain_text("CRASHED")
    reason = page.locator("#state-message")
    expect(reason).to_contain_text("Why it crashed")
    expect(reason).to_contain_text("SIGKILL")
    crash = page.get_by_role("region", name="State changes").get_by_role("listitem").last
    expect(crash).to_contain_text("CRASHED")
    expect(crash).to_contain_text("SIGKILL")
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    page.shots.take("crashed")
    page.goto("/ui")
    expect(page.get_by_role("region", name="Needs attention")).to_contain_text("SIGKILL")
    page.shots.take("dashboard-with-crash")


def test_cancel_a_running_run_from_the_ui(page: Any, server: LiveServer, tmp_path: Path) -> None:
    run, _ = open_running_sleepy(page, server, tmp_path)
    page.get_by_role("button", name="Cancel run").click()
    expect(page.locator(".notice")).to_contain_text("Cancellation requested")
    expect(state_badge(page)).to_contain_text("CANCELLED")
    assert server.client().get(f"/api/flow-runs/{run['id']}").json()["state"]["type"] == "CANCELLED"
    page.shots.take("cancelled")


def test_attempts_show_how_each_submission_ended(page: Any, server: LiveServer, tmp_path: Path) -> None:
    api = server.client()
    flaky = deploy(api, "flaky.py:flaky", FLOWS, retries=1)
    run = trigger(api, flaky, marker=str(tmp_path / "marker"))
    sign_in(page, server.api_key or "")
    page.goto(f"/ui/runs/{run['id']}")
    expect(state_badge(page)).to_contain_text("COMPLETED")
    rows = page.get_by_role("region", name="Attempts").get_by_role("row")
    expect(rows).to_have_count(3)  # the heading and one row per submission
    # A crash with crash retries left is recorded as SCHEDULED "AwaitingRetry", saying why.
    expect(rows.nth(1)).to_contain_text("AwaitingRetry")
    expect(rows.nth(1)).to_contain_text("process exited with code 3")
    expect(rows.nth(2)).to_contain_text("COMPLETED")
    page.shots.take("attempts")
