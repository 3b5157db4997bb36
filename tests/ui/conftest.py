"""A real browser (Debian's chromium, driven by Playwright) against a real server process.
Every test leaves screenshots under artifacts/ui/, a failing one included."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.flows import FlowFunction
from runtime.loading import load_entrypoint
from tests.helpers import LiveServer

CHROMIUM = os.environ.get("PUSHFLOW_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "ui"
FLOWS = Path(__file__).parent / "flows"
SHARED_FLOWS = Path(__file__).parent.parent / "flows"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Package scope, not session: Playwright's sync API keeps an event loop running on the main
# thread while it is open, so every later test in the same process would find "a running
# event loop" (asyncio.run, Mangum). Closed after tests/ui's last test (xdist hands the
# package to one worker whole), it leaves the rest of that worker's tests as it found them.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: apt-get install -y chromium chromium-driver (scripts/test does this)")
    from playwright.sync_api import expect, sync_playwright

    # Pages poll every 1-3 s and the machine is shared: give assertions room, not sleeps.
    expect.set_options(timeout=20_000)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_FAILED] = report.failed


_FAILED = pytest.StashKey[bool]()


class Shots:
    """Saves full-page screenshots as artifacts/ui/<test>-<n>-<name>.png."""

    def __init__(self, page: Any, test_name: str) -> None:
        self.page = page
        self.prefix = re.sub(r"[^A-Za-z0-9_]+", "_", test_name).strip("_")
        self.count = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(self, name: str) -> Path:
        self.count += 1
        path = ARTIFACTS / f"{self.prefix}-{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(browser: Any, server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context on the server. Tests save screenshots as they go; a failing
    test also keeps its last view (<test>-NN-FAILED.png)."""
    context = browser.new_context(base_url=server.url.removesuffix("/api"), viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.shots = Shots(page, request.node.name)
    try:
        yield page
    finally:
        if request.node.stash.get(_FAILED, True):
            page.shots.take("FAILED")
        context.close()


def sign_in(page: Any, key: str) -> None:
    page.goto("/ui/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def deploy(api: httpx.Client, entrypoint: str, working_dir: Path, *, pool: str = "local", **extra: Any) -> dict:
    api.post("/api/pools", json={"name": pool, "type": "process"})
    flow = load_entrypoint(entrypoint, str(working_dir))
    assert isinstance(flow, FlowFunction)
    body = {
        "name": "ui",
        "flow_name": flow.name,
        "entrypoint": entrypoint,
        "working_dir": str(working_dir),
        "pool": pool,
        "parameter_schema": flow.parameter_schema(),
        **extra,
    }
    response = api.post("/api/deployments", json=body)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]
