"""`pushflow runs ls` loads only what a client needs: no server, store or pool code (the
time it takes is measured with farm-bench, see docs/cli.md, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import LiveServer

PROBE = """
import json, sys
sys.argv = ["pushflow", "runs", "ls"]
from pushflow_cli.main import main
code = main()
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

SERVER_SIDE = ("control_plane", "fastapi", "starlette", "sqlalchemy", "sqlmodel", "uvicorn", "alembic", "push_pools")


def test_runs_ls_imports_no_server_or_pool_code(server: LiveServer, project: Path) -> None:
    env = {k: v for k, v in server.env.items() if k != "PUSHFLOW_API_KEY"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    loaded = {m.split(".")[0] for m in report["modules"]}
    assert sorted(loaded & set(SERVER_SIDE)) == []
