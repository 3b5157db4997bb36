"""One control plane submits, dies; another, with a fresh empty PUSHFLOW_HOME on the same
PostgreSQL, finds, finishes, cancels and cleans up what the first one started -- through
each attempt's ref (id + locator) in the store and nothing else.

Used by tests/e2e/test_{ecs,cloud_run,aci}_e2e.py with their emulators."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.conftest import FLOWS
from tests.helpers import LiveServer, final, trigger, wait_for


def hand_over(
    tmp_path: Path,
    database_url: str,
    kind: str,
    defaults: dict[str, Any],
    env: dict[str, str],
    nothing_left: Callable[[], bool],
) -> list[dict[str, Any]]:
    """Returns the attempts of both runs as the second server lists them."""
    # Replicas on one database share the secret that signs run tokens (the runs started by
    # the first server keep calling back with their tokens); nothing else is shared.
    env = {**env, "PUSHFLOW_SERVER_SECRET": "handover-server-secret-" + "x" * 24}
    # A shared database is migrated by the operator, once; servers on it never migrate.
    upgraded = subprocess.run(
        [sys.executable, "-m", "pushflow_cli", "db", "upgrade"],
        env={**os.environ, "PUSHFLOW_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    first = LiveServer(tmp_path / "first-home", database_url=database_url, extra_env=env).start()
    second = None
    try:
        api = first.client()
        api.post("/api/pools", json={"name": "handover", "type": kind, "defaults": defaults}).raise_for_status()
        deployment = _deploy(first)
        runs = {}
        for name in ("finish", "cancel"):
            started, release = tmp_path / f"{name}.started", tmp_path / f"{name}.release"
            runs[name] = (trigger(api, deployment, started=str(started), release=str(release)), started, release)
        for run, started, _ in runs.values():
            wait_for(started.exists, timeout=90, what=f"run {run['id']} to start in its container")
            wait_for(lambda r=run: _state(api, r) == "RUNNING", timeout=30, what="the run to be RUNNING")
        assert first.process is not None
        first.process.kill()  # SIGKILL: no shutdown; nothing it held in memory survives
        first.process.wait()

        # A fresh home: no file of the first server's can help the second one.
        second = LiveServer(tmp_path / "second-home", database_url=database_url, extra_env=env)
        second.port, second.url = first.port, first.url  # the runs call back to this address
        second.env["PUSHFLOW_API_URL"] = first.url
        second.start()
        api = second.client()
        finish, _, release = runs["finish"]
        release.touch()
        assert final(api, finish, timeout=90)["state"]["type"] == "COMPLETED"
        cancel = runs["cancel"][0]
        assert api.post(f"/api/flow-runs/{cancel['id']}/cancel").status_code < 300
        assert final(api, cancel, timeout=90)["state"]["type"] == "CANCELLED"
        wait_for(nothing_left, timeout=90, what=f"nothing of the runs to be left in the {kind} emulator")
        attempts = []
        for run, _, _ in runs.values():
            listed = wait_for(
                lambda r=run: (a := api.get(f"/api/flow-runs/{r['id']}/attempts").json()) and a[-1]["released"] and a,
                timeout=60,
                what="the attempt to be recorded as released",
            )
            attempts += listed
        return attempts
    finally:
        if second is not None:
            second.stop()
        first.stop()


def _state(api: Any, run: dict[str, Any]) -> str:
    return str(api.get(f"/api/flow-runs/{run['id']}").json()["state"]["type"])


def _deploy(server: LiveServer) -> dict[str, Any]:
    args = [sys.executable, "-m", "pushflow_cli", "deploy", f"{FLOWS / 'handover.py'}:hold"]
    # The project is tests/flows, not the checkout around it: a bundle of the whole checkout
    # would install the repository's own dependencies in every container.
    args += ["--name", "handover", "--pool", "handover", "--project-dir", str(FLOWS)]
    env = {**os.environ, "PUSHFLOW_API_URL": server.url, "PUSHFLOW_API_KEY": server.api_key or ""}
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    with server.client() as api:
        response = api.get("/api/deployments/by-name/hold/handover")
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]
