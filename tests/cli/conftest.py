"""One real server per test module (`pushflow server start` on a free port, its own
home), and the user's project folder; commands run through the installed console script."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import LiveServer

FLOWS = Path(__file__).parent.parent / "flows"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # No PUSHFLOW_API_KEY anywhere: the server makes one and the CLI finds it in the home.
    with LiveServer(tmp_path_factory.mktemp("cli") / "home", api_key=None) as live:
        yield live


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, server: LiveServer) -> Path:
    """A user's project folder with flows/ in it, as in the README, and the pool."""
    from tests.cli.shell import pushflow

    folder = tmp_path_factory.mktemp("project")
    shutil.copytree(FLOWS, folder / "flows")
    created = pushflow(server, folder, "pool", "create", "local", "--type", "process")
    assert created.returncode == 0, created.stderr
    deployed = pushflow(server, folder, "deploy", "flows/etl.py:etl", "--name", "nightly", "--pool", "local")
    assert deployed.returncode == 0, deployed.stderr
    return folder
