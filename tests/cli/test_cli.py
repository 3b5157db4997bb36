"""The CLI through the installed `pushflow` console script, against a real server."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.shell import pushflow
from tests.helpers import LiveServer


def test_readme_quick_start(server: LiveServer, project: Path) -> None:
    deployed = pushflow(
        server, project, "deploy", "flows/etl.py:etl", "--name", "nightly", "--pool", "local", "--param", "n=3"
    )
    assert deployed.returncode == 0, deployed.stderr
    assert "etl/nightly" in deployed.stdout
    watched = pushflow(server, project, "run", "etl/nightly", "--param", "n=5", "--watch")
    assert watched.returncode == 0, watched.stdout + watched.stderr
    out = watched.stdout
    assert "State: PENDING" in out or "State: RUNNING" in out
    assert "loaded 5 rows" in out
    assert "total is 100" in out
    assert out.rstrip().endswith("State: COMPLETED")


def test_watch_exits_non_zero_with_the_error_when_the_run_fails(server: LiveServer, project: Path) -> None:
    pushflow(server, project, "deploy", "flows/failing.py:failing", "--name", "daily", "--pool", "local")
    watched = pushflow(server, project, "run", "failing/daily", "--watch")
    assert watched.returncode == 1
    assert "State: FAILED" in watched.stdout
    assert "ValueError: the warehouse is on fire" in watched.stderr


def test_runs_ls_inspect_and_logs(server: LiveServer, project: Path) -> None:
    pushflow(server, project, "deploy", "flows/etl.py:etl", "--name", "nightly", "--pool", "local")
    run = pushflow(server, project, "run", "etl/nightly", "--param", "n=3", "--watch")
    run_id = run.stdout.split("(", 1)[1].split(")", 1)[0]
    listed = pushflow(server, project, "runs", "ls")
    assert run_id in listed.stdout and "COMPLETED" in listed.stdout
    inspected = pushflow(server, project, "runs", "inspect", run_id)
    assert '"type": "COMPLETED"' in inspected.stdout and "extract-0" in inspected.stdout
    logs = pushflow(server, project, "runs", "logs", run_id)
    assert "loaded 3 rows" in logs.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("run", "etl/nope"), "deployment 'etl/nope' not found"),
        (("run", "no-slash"), "FLOW/DEPLOYMENT"),
        (("run", "etl/nightly", "--param", "n"), "--param expects key=value"),
        (("deploy", "flows/missing.py:etl", "--name", "x", "--pool", "local"), "does not exist"),
        (("deploy", "flows/etl.py:etl", "--name", "x", "--pool", "ghost"), "pushflow pool create ghost"),
        (("pool", "create", "p", "--type", "kubernetes"), "unknown pool type 'kubernetes'"),
        (("runs", "inspect", "nope"), "flow run 'nope' not found"),
    ],
)
def test_errors_are_one_line_with_a_non_zero_exit(
    server: LiveServer, project: Path, args: tuple, expected: str
) -> None:
    result = pushflow(server, project, *args)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    env = {
        "PATH": shutil.os.environ["PATH"],
        "PUSHFLOW_HOME": str(tmp_path),
        "PUSHFLOW_API_URL": "http://127.0.0.1:9/api",
    }
    result = subprocess.run(["pushflow", "pool", "ls"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "cannot reach the pushflow API at http://127.0.0.1:9/api" in result.stderr
