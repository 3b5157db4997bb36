from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from push_pools.base import InfraRef, PoolContext
from push_pools.process import ProcessJob, ProcessPool
from tests.push_pools.contract import PushPoolContract


@pytest.fixture
def pool(tmp_path: Path) -> ProcessPool:
    return ProcessPool(PoolContext(state_dir=tmp_path / "state"))


@pytest.fixture
def make_job() -> Any:
    return lambda command: ProcessJob(command=command)


@pytest.fixture
def unknown_ref() -> InfraRef:
    return InfraRef(provider="process", id="999999999")


class TestProcessPool(PushPoolContract):
    def test_server_credentials_are_withheld_from_runs(
        self, pool: ProcessPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from tests.push_pools.contract import python, spec, wait_ended

        monkeypatch.setenv("PUSHFLOW_API_KEY", "admin-key-must-not-leak")
        out = tmp_path / "key"
        code = f"import os; open({str(out)!r}, 'w').write(os.environ.get('PUSHFLOW_API_KEY', 'absent'))"
        wait_ended(pool, pool.submit(spec(), ProcessJob(command=python(code))))
        assert out.read_text() == "absent"

    def test_a_run_gets_a_minimal_environment_not_the_servers(
        self, pool: ProcessPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from tests.push_pools.contract import python, spec, wait_ended

        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "server-cloud-secret")
        monkeypatch.setenv("PUSHFLOW_SERVER_SECRET", "signs-run-tokens")
        monkeypatch.setenv("PUSHFLOW_API_KEY_FILE", "/somewhere/api_key")
        out = tmp_path / "env.json"
        code = f"import json, os; open({str(out)!r}, 'w').write(json.dumps(dict(os.environ)))"
        job = ProcessJob(command=python(code), env={"FROM_JOB": "yes"})
        wait_ended(pool, pool.submit(spec(), job))
        seen = json.loads(out.read_text())
        assert not {"AWS_SECRET_ACCESS_KEY", "PUSHFLOW_SERVER_SECRET", "PUSHFLOW_API_KEY_FILE"} & set(seen)
        assert seen["FROM_JOB"] == "yes"
        # the run imports the same pushflow as the server (PYTHONPATH, PATH are kept)
        assert seen.get("PYTHONPATH") == os.environ.get("PYTHONPATH")
        assert seen["PATH"] == os.environ["PATH"]

    # The first adapter is dropped with its child running, as in a real restart.
    @pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
    def test_a_new_adapter_does_not_start_a_run_again(self, tmp_path: Path) -> None:
        # The control plane restarted between two submits of one run.
        from tests.push_pools.contract import python, spec, wait_ended

        marker = tmp_path / "starts"
        job = ProcessJob(command=python(f"open({str(marker)!r}, 'a').write('x')"))
        run = spec()
        first = ProcessPool(PoolContext(state_dir=tmp_path / "s")).submit(run, job)
        again = ProcessPool(PoolContext(state_dir=tmp_path / "s"))
        assert again.submit(run, job).id == first.id
        wait_ended(again, first)
        assert marker.read_text() == "x"
