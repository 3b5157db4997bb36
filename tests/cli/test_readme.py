"""The README's quick start, verbatim, for a user who keeps pushflow's home and port
somewhere else (PUSHFLOW_HOME, PUSHFLOW_PORT): every command block runs as written, in
bash, against `pushflow server start` started as the README says."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port, wait_for

README = Path(__file__).parent.parent.parent / "README.md"


def _section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def _blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path, Path]]:
    """A user's environment (its own HOME, PUSHFLOW_HOME and PUSHFLOW_PORT, nothing else
    of pushflow's), their project folder, and the server started as the README says."""
    root = tmp_path_factory.mktemp("readme")
    keep = ("PATH", "PYTHONPATH", "VIRTUAL_ENV", "LANG", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env |= {"HOME": str(root / "user"), "PUSHFLOW_HOME": str(root / "pf-home"), "PUSHFLOW_PORT": str(free_port())}
    (root / "user").mkdir()
    [install] = _blocks(_section("The two commands"), "bash")[:1]
    start = install.strip().rpartition("&& ")[2]
    assert start == "pushflow server start"
    log = root / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(["bash", "-c", f"exec {start}"], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['PUSHFLOW_PORT']}/api/health"

    def healthy() -> bool:
        assert server.poll() is None, log.read_text()
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(healthy, timeout=30, what="the README's server to answer on PUSHFLOW_PORT")
        project = root / "project"
        project.mkdir()
        yield env, project, log
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_quick_start_runs_verbatim(user: tuple[dict[str, str], Path, Path]) -> None:
    env, project, log = user
    section = _section("Quick start")
    [flow_source] = _blocks(section, "python")
    (project / "flows").mkdir()
    (project / "flows" / "etl.py").write_text(flow_source)
    outputs = []
    for block in _blocks(section, "bash"):
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", block],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{block}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    watched = next(out for out in outputs if "State:" in out)
    assert "loaded 5 rows" in watched and watched.rstrip().endswith("State: COMPLETED")
    triggered = json.loads(outputs[-1])  # the curl trigger answers with the new run
    assert triggered["flow_name"] == "etl" and triggered["parameters"] == {"n": 5}
    # The key lives in PUSHFLOW_HOME, not in the user's ~/.pushflow.
    assert (Path(env["PUSHFLOW_HOME"]) / "api_key").exists()
    assert not (Path(env["HOME"]) / ".pushflow").exists()


def test_the_server_starts_without_migration_chatter(user: tuple[dict[str, str], Path, Path]) -> None:
    _, _, log = user
    assert "alembic" not in log.read_text()
