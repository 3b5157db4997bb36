"""Test helpers: waiting on a condition (never a bare sleep), free ports, a live server."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def wait_for(check: Callable[[], T], *, timeout: float = 20.0, interval: float = 0.05, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")


TERMINAL = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})


def trigger(api: httpx.Client, deployment: dict, job_variables: dict | None = None, **parameters: Any) -> dict:
    """Trigger `deployment` over the API; the run must be created (201)."""
    body = {"parameters": parameters, "job_variables": job_variables or {}}
    response = api.post(f"/api/deployments/{deployment['id']}/runs", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def final(api: httpx.Client, run: dict, timeout: float = 60) -> dict:
    """Wait until `run` reaches a terminal state and return it as the API shows it."""

    def ended() -> dict | None:
        current = api.get(f"/api/flow-runs/{run['id']}").json()
        return current if current["state"]["type"] in TERMINAL else None

    return wait_for(ended, timeout=timeout, what=f"run {run['id']} to end")


def free_port() -> int:
    """A free port below the kernel's ephemeral range. A port from that range (what binding
    port 0 gives) can be taken by any outgoing connection while a server is down — even by a
    client retrying that very port, which TCP may connect to itself — so a server restarted on
    the same port could not listen again. Under pytest-xdist each worker draws from its own
    slice of that range, so two workers never pick the same port between the check here and
    their servers binding it."""
    low = _ephemeral_low()
    start, stop = _worker_slice(max(1024, low - 12000), low)
    for _ in range(200):
        port = random.randrange(start, stop)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port found below {low}")


def _worker_slice(start: int, stop: int) -> tuple[int, int]:
    """This xdist worker's share of [start, stop) (all of it outside xdist)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker.startswith("gw") or count < 2:
        return start, stop
    size = (stop - start) // count
    first = start + int(worker[2:]) % count * size
    return first, first + size


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


class LiveServer:
    """`pushflow server start` as a real process on a free port, with its own home;
    `with LiveServer(home) as live:` starts it and stops it (and its clients) after."""

    def __init__(
        self,
        home: Path,
        *,
        api_key: str | None = "test-admin-key",
        database_url: str | None = None,
        extra_env: dict[str, str] | None = None,
        migrated_store: bool = True,
    ) -> None:
        """With `migrated_store` (and no database URL) a new home starts with a copy of a
        SQLite store at the newest schema (tests/databases.py), so the server skips the
        migration a first start does (tested on its own: tests/cli/test_readme.py); a home
        that has its store already keeps it."""
        self.home = home
        self.port = free_port()
        self.api_key = api_key
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.env = {
            **os.environ,
            "PUSHFLOW_HOME": str(home),
            "PUSHFLOW_API_URL": self.url,
            "PUSHFLOW_LOOP_INTERVAL": "0.1",
            "PUSHFLOW_RECONCILE_INTERVAL": "0.2",
            **(extra_env or {}),
        }
        if api_key:
            self.env["PUSHFLOW_API_KEY"] = api_key
        else:  # the server generates one and saves it for the CLI
            self.env.pop("PUSHFLOW_API_KEY", None)
        if database_url:
            self.env["PUSHFLOW_DATABASE_URL"] = database_url
        self.migrated_store = migrated_store and not self.env.get("PUSHFLOW_DATABASE_URL")
        self.process: subprocess.Popen[bytes] | None = None
        self._clients: list[httpx.Client] = []

    def start(self) -> LiveServer:
        self.log_path = self.home / "server.log"
        self.home.mkdir(parents=True, exist_ok=True)
        store = self.home / "pushflow.db"
        if self.migrated_store and not store.exists():
            from tests.databases import sqlite_template

            sqlite_template().copy_to(store)
        log = open(self.log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pushflow_cli", "server", "start", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        try:
            wait_for(self._healthy, timeout=60, what=f"the server on port {self.port} to answer /api/health")
        except AssertionError as exc:  # never leave a half-started server behind
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{exc}; its output:\n{self.log_path.read_text()[-2000:]}") from None
        if self.api_key is None:
            self.api_key = (self.home / "api_key").read_text().strip()
        return self

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"server exited early:\n{self.log_path.read_text()}")
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def client(self, key: str | None = None) -> httpx.Client:
        """An HTTP client with the admin key (or `key`) for paths like "/api/pools";
        closed when the server stops."""
        client = httpx.Client(
            base_url=self.url.removesuffix("/api"),
            headers={"Authorization": f"Bearer {key or self.api_key}"},
            timeout=30,
        )
        self._clients.append(client)
        return client

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
