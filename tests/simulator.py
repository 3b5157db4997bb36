"""The container simulator: runs what a cloud pool actually submitted (command + env) as a
local subprocess, so an end-to-end test proves the submission is complete enough for the
runtime to start, run the flow and report back.

Each cloud test reads the submission from its emulator, calls `start`, and writes the
outcome (`exit_code`) back into the emulator the way the provider would report it.

Volumes: a process has no mount namespace, so a volume the provider would mount at a
container path is a host folder, and every environment value or command word naming a
path under that container path is translated to the same path under the host folder --
what the program inside would see at the mount path. Two containers given the same host
folder share it, as two tasks mounting one file system do.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

# What a real container would not have: the test runner's own credentials.
_NOT_IN_CONTAINERS = ("PUSHFLOW_API_KEY", "PUSHFLOW_DATABASE_URL", "PUSHFLOW_HOME")


class SimulatedContainer:
    def __init__(
        self, key: str, command: Sequence[str], env: Mapping[str, str], log_path: Path, cwd: Path | None = None
    ) -> None:
        self.key = key
        self.command = list(command)
        self.env = dict(env)
        self.log_path = log_path
        self.started_at = time.time()  # when the provider started it (lateness of scheduled runs)
        base = {k: v for k, v in os.environ.items() if k not in _NOT_IN_CONTAINERS}
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command,
                env={**base, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=cwd,
            )

    @property
    def exit_code(self) -> int | None:
        return self.process.poll()

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class ContainerSimulator:
    """Starts each submission once (keyed by the provider's task/execution id)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        # Start each container in its own new, empty folder, as a container starts in its
        # image's working dir: nothing of the deployer's files is there.
        self.fresh_working_dirs = False
        self.containers: dict[str, SimulatedContainer] = {}
        self._lock = threading.Lock()

    def start(
        self, key: str, command: Sequence[str], env: Mapping[str, str], mounts: Mapping[str, Path] | None = None
    ) -> SimulatedContainer:
        """Run `command` with `env`; `mounts` maps container paths to host folders."""
        if mounts:
            command = [_mounted(word, mounts) for word in command]
            env = {name: _mounted(value, mounts) for name, value in env.items()}
        with self._lock:
            if key not in self.containers:
                safe = "".join(c if c.isalnum() else "_" for c in key)[-80:]
                cwd = None
                if self.fresh_working_dirs:
                    cwd = self.log_dir / "work" / safe
                    cwd.mkdir(parents=True)
                self.containers[key] = SimulatedContainer(key, command, env, self.log_dir / f"{safe}.log", cwd)
            return self.containers[key]

    def get(self, key: str) -> SimulatedContainer | None:
        return self.containers.get(key)

    def stop_all(self) -> None:
        for container in list(self.containers.values()):
            container.stop()


def _mounted(value: str, mounts: Mapping[str, Path]) -> str:
    for container_path, host in mounts.items():
        if value == container_path or value.startswith(container_path.rstrip("/") + "/"):
            host.mkdir(parents=True, exist_ok=True)
            return str(host) + value[len(container_path.rstrip("/")) :]
    return value
