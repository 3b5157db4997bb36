"""pushflow as a user installs it: a virtual environment under the benchmark's cache folder
with a regular (not editable) install of this checkout and its `server` and `postgres`
extras, pinned by constraints.txt, refreshed at the start of every run.

The peer has always run this way (bench/peer.py: its own venv, a regular install). Until
2026-12-02 pushflow ran in the interpreter that ran the benchmark instead, and on the
development machine that interpreter is not what a user has:
- an editable install's finder (`__editable___pushflow_*_finder`, loaded from a `.pth` at
  every interpreter start) imports pathlib, fnmatch and more before any statement runs;
- that interpreter's site-packages holds the sandbox's own `.pth`, which imports certifi
  (and with it importlib.resources, tempfile, shutil, zipfile, bz2, lzma) at every start;
- packages no pushflow dependency asks for (orjson, which FastAPI imports when it is
  there) load in the server.
Measured on the dev box, a bare `python -c pass`: 13.5 MiB and 50-100 ms there, 8.6 MiB
and 20 ms in a venv. They also flattered some rows: the import rows time the statement
inside the process, and whatever the start-up had already imported cost the statement
nothing. `--in-place` keeps the old way for quick iteration (and the test suite).
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import sys
import venv
from pathlib import Path

from bench import peer
from bench.context import INTERPRETER, environ_without

CHECKOUT = Path(__file__).resolve().parents[1]
EXTRAS = "server,postgres"  # what the benchmark's servers need: uvicorn, psycopg


def venv_dir(checkout: Path = CHECKOUT) -> Path:
    """One venv per checkout, so that runs from two worktrees (an A/B) never install over
    each other's code."""
    return peer.cache_dir() / f"pushflow-{hashlib.sha1(str(checkout).encode()).hexdigest()[:8]}"


def python(checkout: Path = CHECKOUT) -> Path:
    return venv_dir(checkout) / "bin" / "python"


def install(checkout: Path = CHECKOUT) -> Path:
    """Create the venv if needed and (re)install `checkout` into it; return its Python.

    pip reinstalls a local folder every time (it cannot tell whether its files changed)
    and installs its dependencies only when constraints.txt asks for others, so a run
    after the first pays ~15 s here. pip compiles the bytecode as it installs, as it does
    for a user."""
    where = venv_dir(checkout)
    if not python(checkout).exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(where)
    cmd = [
        str(python(checkout)),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--constraint",
        str(checkout / "constraints.txt"),
        f"{checkout}[{EXTRAS}]",
    ]
    # No PYTHONPATH or PYTHONDONTWRITEBYTECODE of ours: the install is the user's.
    env = environ_without(INTERPRETER)
    with open(where / "install.lock", "w") as lock:  # two runs from one checkout: one pip at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(where))
    if done.returncode != 0:
        sys.exit(f"installing {checkout} into {where} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return python(checkout)
