"""The `process` pool: each run is a local subprocess started exactly as a container
would start it (`pushflow execute` with the run's environment).

Local by nature, yet as stateless as the cloud pools: the pid, the pid file that makes
submit idempotent and the log file are all in the ref (`id` = pid, `locator` = paths);
`status` reads the child with `waitid(WNOWAIT)`, leaving it to be reaped by `release`,
which also deletes both files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import threading
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from push_pools.base import InfraPhase, InfraRef, InfraStatus, JobVariables, Released, RunSpec
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


_LOG_TAIL = 200


class ProcessJob(JobVariables):
    command: list[str] | None = Field(
        default=None, description="Command to start; default: this Python's `pushflow execute`"
    )
    working_dir: str | None = Field(default=None, description="Directory the process starts in")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables")
    log_dir: str | None = Field(
        default=None, description="Where each run's pid and output files go; default $PUSHFLOW_HOME/process-runs"
    )


class ProcessPool:
    kind: ClassVar[str] = "process"
    Job: ClassVar[type[ProcessJob]] = ProcessJob

    def submit(self, run: RunSpec, job: ProcessJob, *, timeout: float = 30.0) -> InfraRef:
        directory = Path(job.log_dir) if job.log_dir else _default_dir()
        directory.mkdir(parents=True, exist_ok=True)
        stem = run.idempotency_token.removeprefix("pushflow-")
        pid_file, log_file = directory / f"{stem}.pid", directory / f"{stem}.log"
        try:  # the pid file is the submission's claim: whoever creates it starts the run
            fd = os.open(pid_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return self._ref(_read_pid(pid_file, timeout), pid_file, log_file)
        try:
            pid = _spawn(run, job, log_file)
            os.write(fd, str(pid).encode())
        except BaseException:
            os.close(fd)
            pid_file.unlink(missing_ok=True)
            raise
        os.close(fd)
        return self._ref(pid, pid_file, log_file)

    def status(self, ref: InfraRef) -> InfraStatus:
        pid = int(ref.id)
        try:
            # WNOWAIT: look without reaping, so every reader sees the exit code until release.
            seen = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return _status_of_stranger(pid)
        if seen is None:
            return InfraStatus(InfraPhase.RUNNING)
        code = seen.si_status if seen.si_code == os.CLD_EXITED else -seen.si_status
        return InfraStatus(InfraPhase.EXITED, exit_code=code, reason=_describe_exit(code))

    def cancel(self, ref: InfraRef, *, grace: float = 10.0) -> None:
        pid = int(ref.id)
        if not _signal_group(pid, signal.SIGTERM):
            return
        # A local process has no provider to enforce the grace period; a timer does.
        timer = threading.Timer(grace, self._kill_if_alive, args=(ref,))
        timer.daemon = True
        timer.start()

    def logs(self, ref: InfraRef, *, limit: int = 200) -> list[str]:
        path = Path(ref.locator.get("log", ""))
        if not ref.locator.get("log") or not path.exists():
            return []
        with open(path, errors="replace") as fh:
            return [line.rstrip("\n") for line in deque(fh, maxlen=limit)]

    def release(self, ref: InfraRef) -> Released:
        pid = int(ref.id)
        status = self.status(ref)
        if not status.ended:
            _signal_group(pid, signal.SIGKILL)
            status = InfraStatus(InfraPhase.EXITED, reason="process killed on release")
        tail = self.logs(ref, limit=_LOG_TAIL)
        with contextlib.suppress(ChildProcessError):  # reap it (ended or killed): no zombie left
            os.waitpid(pid, 0)
        for key in ("pid_file", "log"):
            if ref.locator.get(key):
                Path(ref.locator[key]).unlink(missing_ok=True)
        return Released(status, tail)

    def _kill_if_alive(self, ref: InfraRef) -> None:
        if not self.status(ref).ended:
            _signal_group(int(ref.id), signal.SIGKILL)

    def _ref(self, pid: int, pid_file: Path, log_file: Path) -> InfraRef:
        return InfraRef(provider=self.kind, id=str(pid), locator={"pid_file": str(pid_file), "log": str(log_file)})


def _default_dir() -> Path:
    home = os.environ.get("PUSHFLOW_HOME") or str(Path.home() / ".pushflow")
    return Path(home) / "process-runs"


def _read_pid(pid_file: Path, timeout: float) -> int:
    """The pid another submit of the same attempt wrote (it may still be writing)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        text = pid_file.read_text().strip()
        if text:
            return int(text)
        if time.monotonic() > deadline:
            raise SubmissionError(f"{pid_file} stayed empty: a concurrent submit of this run did not finish")
        time.sleep(0.01)


def _spawn(run: RunSpec, job: ProcessJob, log_file: Path) -> int:
    """posix_spawn, not subprocess.Popen: a Popen object reaps its child when collected,
    and that would take the exit code away from `status`."""
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
    if job.working_dir:  # posix_spawn has no cwd: a shell changes directory, then execs
        command = ["/bin/sh", "-c", 'cd "$0" && exec "$@"', job.working_dir, *command]
    program = command[0] if os.sep in command[0] else shutil.which(command[0], path=env.get("PATH"))
    if program is None:
        raise SubmissionError(f"cannot start {command[0]!r}: not found on PATH")
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log_file), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    try:
        return os.posix_spawn(program, command, env, file_actions=actions, setsid=True)
    except OSError as exc:
        raise SubmissionError(f"cannot start {command[0]!r}: {exc.strerror}") from exc


def _status_of_stranger(pid: int) -> InfraStatus:
    """Status of a process this process did not start (the control plane restarted)."""
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
