"""The peer: Prefect 3 in its own virtual environment under a cache folder.

Never a dependency of pushflow. A plain `pip install prefect` on this index resolves to
fastapi and SQLAlchemy releases its server cannot run with, hence the constraints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

CONSTRAINTS = ("fastapi<0.151", "sqlalchemy[asyncio]<2.1")


def cache_dir() -> Path:
    root = os.environ.get("PUSHFLOW_BENCH_CACHE") or Path.home() / ".cache" / "pushflow-bench"
    return Path(root).expanduser()


def venv_dir() -> Path:
    return cache_dir() / "prefect3"


def python() -> Path:
    return venv_dir() / "bin" / "python"


def is_installed() -> bool:
    return (
        python().exists()
        and subprocess.run([str(python()), "-c", "import prefect"], capture_output=True).returncode == 0
    )


def install(*, quiet: bool = False) -> dict[str, str]:
    """Create the venv (if needed) and install Prefect 3 with the constraints; return versions."""
    if not python().exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir())
    cmd = [str(python()), "-m", "pip", "install", "prefect>=3,<4", *CONSTRAINTS]
    if quiet:
        cmd.append("-q")
    subprocess.run(cmd, check=True)
    return versions()


def versions() -> dict[str, str]:
    """The versions measured, as the peer's own interpreter reports them."""
    code = (
        "import json, importlib.metadata as m, sys\n"
        "names = ['prefect', 'fastapi', 'sqlalchemy', 'pydantic', 'uvicorn', 'httpx']\n"
        "out = {n: m.version(n) for n in names}\n"
        "out['python'] = sys.version.split()[0]\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([str(python()), "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def require() -> Path:
    if not is_installed():
        sys.exit(
            f"Prefect 3 is not installed under {venv_dir()}; run with --install-peer, "
            "or --skip-peer to measure pushflow alone"
        )
    return python()
