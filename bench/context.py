"""What every workload gets: options, the two interpreters, clean environments, a scratch
folder, and a way to run a probe script and read its JSON."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.servers import PushflowServer

if TYPE_CHECKING:
    from bench.report import Row

PROBES = Path(__file__).resolve().parent / "probes"
SYSTEMS = ("PREFECT_", "PUSHFLOW_")  # either system's settings: each run sets its own
INTERPRETER = ("PYTHON", "VIRTUAL_ENV")  # the caller's interpreter settings (PYTHONPATH, ...)


def environ_without(prefixes: tuple[str, ...]) -> dict[str, str]:
    """This process's environment without the variables named with those prefixes."""
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


@dataclasses.dataclass
class Context:
    quick: bool
    scratch: Path
    peer_python: Path | None = None  # None: --skip-peer
    # pushflow's interpreter: the benchmark's venv (bench/installed.py), or with --in-place
    # the one running the benchmark, with whatever PYTHONPATH it was given.
    python: str = sys.executable
    in_place: bool = True
    # Measurements that failed without stopping their workload: "what: why".
    failures: list[str] = dataclasses.field(default_factory=list)

    def failed(self, row: Row, system: str, exc: Exception) -> None:
        last = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        row.note = f"{row.note} {system} failed: {last}".strip()
        self.failures.append(f"{row.workload} / {system}: {exc}")

    def pushflow_env(self, **extra: str) -> dict[str, str]:
        # Installed, pushflow gets what the peer gets: no PYTHONPATH (which would put a
        # checkout before the install) nor any other PYTHON* setting of the caller's.
        env = environ_without(SYSTEMS if self.in_place else SYSTEMS + INTERPRETER)
        env["PUSHFLOW_HOME"] = str(self.scratch / "pushflow-home")
        return {**env, **extra}

    def pushflow_server(self, database: str | None = None) -> PushflowServer:
        """pushflow's API server on this run's interpreter and environment."""
        return PushflowServer(database, python=self.python, base_env=self.pushflow_env())

    def prefect_env(self, **extra: str) -> dict[str, str]:
        env = environ_without(SYSTEMS + INTERPRETER)
        env.update(
            PREFECT_HOME=str(self.scratch / "prefect-home"),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_LOGGING_LEVEL="WARNING",
            # Its ephemeral API starts in a subprocess; 20 s is not enough on a busy box.
            PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
        )
        return {**env, **extra}

    def probe(self, system: str, script: str, *args: str, env: dict[str, str], timeout: float = 900) -> dict[str, Any]:
        """Run bench/probes/<script> under `system`'s interpreter; return its last JSON line."""
        python = self.python if system == "pushflow" else str(self.peer_python)
        what = f"{system} probe {script} {' '.join(args)}"
        return self.run_json([python, str(PROBES / script), *args], env=env, timeout=timeout, what=what)

    def run_json(self, cmd: list[str], *, env: dict[str, str], timeout: float, what: str) -> Any:
        """Run `cmd` in its own process group (killed afterwards, whatever happens: it may
        have started servers of its own); return the JSON on its last line of output."""
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=str(self.scratch),
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        lines = out.strip().splitlines()
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"{what} failed ({proc.returncode}):\n{err[-3000:]}")
        return json.loads(lines[-1])  # type: ignore[no-any-return]
