"""Running the installed `pushflow` console script as a user would."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.helpers import LiveServer


def pushflow(
    server: LiveServer, cwd: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`pushflow ARGS` in `cwd`, pointed at `server`; the key comes from the server's home."""
    base = {k: v for k, v in server.env.items() if k != "PUSHFLOW_API_KEY"}
    pushflow_bin = shutil.which("pushflow")
    assert pushflow_bin, "the pushflow console script is not installed (pip install -e .)"
    return subprocess.run(
        [pushflow_bin, *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command (asserting there is exactly one)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]
