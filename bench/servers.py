"""Servers the benchmark starts: each system's API on a free 127.0.0.1 port with SQLite in
a temporary folder (or a scratch PostgreSQL database), stopped (process group and all) when the `with` block ends, on
failure, on Ctrl-C and at interpreter exit."""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

ADMIN_KEY = "bench-admin-key"
_started: list[subprocess.Popen[bytes]] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn(
    cmd: list[str], *, env: dict[str, str], log: Path | None = None, cwd: str | None = None
) -> subprocess.Popen[bytes]:
    """Start `cmd` in its own process group, remembered so that it is always stopped."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)
    if log:
        out.close()  # type: ignore[union-attr]
    _started.append(proc)
    return proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process group we started, then SIGKILL it if it lingers."""
    if proc in _started:
        _started.remove(proc)
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            # The leader is gone; make sure nothing it spawned stays behind.
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
        break


def stop_all(*_: Any) -> None:
    for proc in list(_started):
        stop(proc, timeout=5.0)


def install_cleanup() -> None:
    """Stop everything we started on exit, SIGTERM and SIGINT (then re-raise as usual)."""
    atexit.register(stop_all)

    def on_signal(signum: int, _frame: Any) -> None:
        stop_all()
        raise KeyboardInterrupt if signum == signal.SIGINT else SystemExit(128 + signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 180.0) -> float:
    """Poll `url` until it answers 200; return the seconds it took."""
    start = time.perf_counter()
    deadline = start + timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return time.perf_counter() - start
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server did not answer {url} within {timeout}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Server:
    """One system's API server in a temp home; use as a context manager."""

    system = ""

    def __init__(self) -> None:
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix=f"bench-{self.system}-"))
        self.log = self.home / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def health_url(self) -> str:
        raise NotImplementedError

    def __enter__(self) -> Server:
        self.proc = spawn(self.command(), env=self.env(), log=self.log, cwd=str(self.home))
        try:
            self.startup_seconds = wait_healthy(self.health_url(), self.proc, self.log)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_: Any) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None
        shutil.rmtree(self.home, ignore_errors=True)

    def client_env(self) -> dict[str, str]:
        """Environment for a client process that talks to this server."""
        raise NotImplementedError


PG_SERVER = os.environ.get("PUSHFLOW_BENCH_PG", "postgres@127.0.0.1:5432")


@contextlib.contextmanager
def scratch_postgres_database(system: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on PG_SERVER for one system's server, dropped
    afterwards; yields `user@host:port/name` (each system adds its own driver scheme)."""
    import psycopg

    name = f"bench_{system}_{uuid.uuid4().hex[:10]}"
    admin = f"postgresql://{PG_SERVER}/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PushflowServer(Server):
    system = "pushflow"

    def __init__(
        self, database: str | None = None, *, python: str = sys.executable, base_env: dict[str, str] | None = None
    ) -> None:
        self.database = database  # `user@host:port/name` on PostgreSQL; None: SQLite in its home
        self.python = python  # the benchmark's pushflow venv, or this interpreter
        self.base_env = base_env  # None: this process's environment
        super().__init__()

    def command(self) -> list[str]:
        return [self.python, "-m", "pushflow_cli", "server", "start", "--port", str(self.port)]

    def __enter__(self) -> PushflowServer:
        if self.database:  # outside local SQLite, only `db upgrade` migrates (docs/settings.md)
            upgrade = [self.python, "-m", "pushflow_cli", "db", "upgrade"]
            done = subprocess.run(upgrade, env=self.env(), capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"pushflow db upgrade failed:\n{done.stderr[-2000:]}")
        super().__enter__()
        return self

    def env(self) -> dict[str, str]:
        base = os.environ if self.base_env is None else self.base_env
        env = {**base, **self.client_env(), "PUSHFLOW_HOME": str(self.home)}
        if self.database:
            env["PUSHFLOW_DATABASE_URL"] = f"postgresql+psycopg://{self.database}"
            # A shared database needs a shared secret for run tokens (docs/settings.md).
            env["PUSHFLOW_SERVER_SECRET"] = secrets.token_hex(32)
        return env

    def client_env(self) -> dict[str, str]:
        return {"PUSHFLOW_API_URL": self.api_url, "PUSHFLOW_API_KEY": ADMIN_KEY}

    def health_url(self) -> str:
        return f"{self.api_url}/health"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_KEY}"}


def until_not_503(send: Callable[[], httpx.Response], attempts: int = 30) -> httpx.Response:
    """Set-up only (not measured): Prefect on SQLite answers its first writes with 503 while
    its own start-up services hold the database (gone a second or so later). It used to cost
    the whole SQLite API comparison, and on 2026-12-02 the per-task probe with a server
    twice (its first `POST /flow_runs/`), so a started Prefect server is not handed to a
    workload before it accepts a write."""
    for _ in range(attempts - 1):
        response = send()
        if response.status_code != 503:
            return response
        time.sleep(1.0)
    return send()


class PrefectServer(Server):
    system = "prefect"

    def __init__(self, python: Path, database: str | None = None) -> None:
        self.python = python
        self.database = database  # `user@host:port/name` on PostgreSQL; None: SQLite in its home
        super().__init__()

    def command(self) -> list[str]:
        prefect = str(self.python.parent / "prefect")
        return [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(self.port)]

    def __enter__(self) -> PrefectServer:
        super().__enter__()
        try:  # healthy is not yet ready to write: wait for that too (not measured)
            with httpx.Client(base_url=self.api_url, timeout=30) as http:
                until_not_503(lambda: http.post("/flows/", json={"name": "bench-ready"})).raise_for_status()
        except BaseException:
            self.__exit__()
            raise
        return self

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PUSHFLOW_"))}
        database = f"sqlite+aiosqlite:///{self.home / 'prefect.db'}"
        if self.database:
            database = f"postgresql+asyncpg://{self.database}"
        return {
            **base,
            **self.client_env(),
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_DATABASE_CONNECTION_URL": database,
            "PREFECT_UI_ENABLED": "false",
        }

    def client_env(self) -> dict[str, str]:
        return {
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }

    def health_url(self) -> str:
        return f"{self.api_url}/health"

    def headers(self) -> dict[str, str]:
        return {}
