"""The `process` pool: each run is a local subprocess started exactly as a container
would start it (`pushflow execute` with the run's environment)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from push_pools.base import InfraPhase, InfraRef, InfraStatus, JobVariables, PoolContext, RunSpec
from push_pools.errors import SubmissionError

# A run starts from a minimal environment, never the server's (which may hold the admin
# key, database URL or cloud credentials): these names pass through (docs/pools/process.md),
# then the job's `env` and the run's own variables and token are added.
PASSED_ENV = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
        "PYTHONPATH", "VIRTUAL_ENV", "PUSHFLOW_HOME",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
        "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    }
)  # fmt: skip
PASSED_ENV_PREFIXES = ("LC_", "PIP_")


def minimal_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of `environ` a run may see."""
    return {k: v for k, v in environ.items() if k in PASSED_ENV or k.startswith(PASSED_ENV_PREFIXES)}


class ProcessJob(JobVariables):
    command: list[str] | None = Field(
        default=None, description="Command to start; default: this Python's `pushflow execute`"
    )
    working_dir: str | None = Field(default=None, description="Directory the process starts in")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables")


class ProcessPool:
    Job: ClassVar[type[ProcessJob]] = ProcessJob  # (before `type`, which shadows the builtin below it)
    type: ClassVar[str] = "process"

    def __init__(self, context: PoolContext) -> None:
        self._dir = context.state_dir / "process"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def submit(self, run: RunSpec, job: ProcessJob) -> InfraRef:
        pid_file = self._dir / f"{run.idempotency_token.removeprefix('pushflow-')}.pid"
        with self._lock:
            if pid_file.exists():  # submitted before (perhaps before a restart): never twice
                return self._ref(int(pid_file.read_text()))
            env = minimal_env(os.environ)
            env.update(job.env)
            env.update(run.env)
            env.update(run.secret_env)
            command = job.command or [sys.executable, "-m", "pushflow_cli", "execute"]
            if job.working_dir and not os.path.isdir(job.working_dir):
                raise SubmissionError(
                    f"working_dir {job.working_dir!r} does not exist on this machine; deploy from the "
                    "folder that holds the flow, or set the job variable working_dir to one that exists"
                )
            log = open(self.log_path(run.run_id), "ab")  # noqa: SIM115 - handed to the child
            try:
                child = subprocess.Popen(
                    command,
                    env=env,
                    cwd=job.working_dir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                raise SubmissionError(f"cannot start {command[0]!r}: {exc.strerror}") from exc
            finally:
                log.close()
            self._children[child.pid] = child
            pid_file.write_text(str(child.pid))
            return self._ref(child.pid)

    def status(self, ref: InfraRef) -> InfraStatus:
        pid = int(ref.id)
        child = self._children.get(pid)
        if child is not None:
            code = child.poll()
            if code is None:
                return InfraStatus(InfraPhase.RUNNING)
            return InfraStatus(InfraPhase.EXITED, exit_code=code, reason=_describe_exit(code))
        return _status_of_stranger(pid)

    def cancel(self, ref: InfraRef, *, grace_seconds: float = 10.0) -> None:
        pid = int(ref.id)
        if not _signal_group(pid, signal.SIGTERM):
            return
        child = self._children.get(pid)

        def kill_if_alive() -> None:
            if child is not None:
                try:
                    child.wait(grace_seconds)
                    return
                except subprocess.TimeoutExpired:
                    pass
            _signal_group(pid, signal.SIGKILL)

        threading.Thread(target=kill_if_alive, name=f"pushflow-kill-{pid}", daemon=True).start()

    def logs(self, ref: InfraRef, *, limit: int = 200) -> list[str]:
        for pid_file in self._dir.glob("*.pid"):
            if pid_file.read_text() == ref.id:
                path = self.log_path(pid_file.stem[:36])  # "<run id>[-<attempt>]"
                if path.exists():
                    with open(path, errors="replace") as fh:
                        return [line.rstrip("\n") for line in deque(fh, maxlen=limit)]
        return []

    def log_path(self, run_id: str) -> Path:
        return self._dir / f"{run_id}.log"

    def _ref(self, pid: int) -> InfraRef:
        return InfraRef(provider=self.type, id=str(pid))


def _status_of_stranger(pid: int) -> InfraStatus:
    """Status of a process this adapter did not start (the control plane restarted)."""
    try:
        reaped, wait_status = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:  # a child of this process after all: its exit code is known
            code = os.waitstatus_to_exitcode(wait_status)
            return InfraStatus(InfraPhase.EXITED, exit_code=code, reason=_describe_exit(code))
        return InfraStatus(InfraPhase.RUNNING)
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return InfraStatus(InfraPhase.MISSING, reason=f"process {pid} is gone; its exit code is unknown")
    except PermissionError:
        return InfraStatus(InfraPhase.RUNNING)
    if _is_zombie(pid):
        return InfraStatus(InfraPhase.MISSING, reason=f"process {pid} has exited; its exit code is unknown")
    return InfraStatus(InfraPhase.RUNNING)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _signal_group(pid: int, sig: signal.Signals) -> bool:
    try:
        os.killpg(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"process killed by {name} (exit code {code})"
    return f"process exited with code {code}"
