from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from push_pools.base import InfraRef
from push_pools.process import ProcessJob, ProcessPool
from tests.push_pools.contract import PushPoolContract, python, spec, wait_ended


@pytest.fixture
def pool() -> ProcessPool:
    return ProcessPool()


@pytest.fixture
def second_pool() -> ProcessPool:
    return ProcessPool()


@pytest.fixture
def make_job(tmp_path: Path) -> Any:
    return lambda command: ProcessJob(command=command, log_dir=str(tmp_path / "runs"))


@pytest.fixture
def unknown_ref() -> InfraRef:
    return InfraRef(provider="process", id="999999999")


@pytest.fixture
def exists() -> Any:
    def check(ref: InfraRef) -> bool:
        files = [Path(ref.locator[k]) for k in ("pid_file", "log")]
        try:
            os.kill(int(ref.id), 0)  # alive, or a zombie nobody reaped
            alive = True
        except ProcessLookupError:
            alive = False
        return alive or any(f.exists() for f in files)

    return check


class TestProcessPool(PushPoolContract):
    # A local process has no provisioning phase, and its create cannot lose an answer.
    can_stall_provisioning = False
    can_lose_create_answer = False
    # A local process shares the machine's disk: PUSHFLOW_DEPS_CACHE in `env` is enough.
    can_mount_deps_cache = False

    def test_server_credentials_are_withheld_from_runs(
        self, pool: ProcessPool, make_job: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PUSHFLOW_API_KEY", "admin-key-must-not-leak")
        out = tmp_path / "key"
        code = f"import os; open({str(out)!r}, 'w').write(os.environ.get('PUSHFLOW_API_KEY', 'absent'))"
        ref = pool.submit(spec(), make_job(python(code)))
        wait_ended(pool, ref)
        assert out.read_text() == "absent"
        pool.release(ref)

    def test_a_missing_working_dir_is_named_not_reported_as_a_missing_python(
        self, pool: ProcessPool, tmp_path: Path
    ) -> None:
        from push_pools.errors import SubmissionError
        from tests.push_pools.contract import spec

        missing = tmp_path / "gone"
        with pytest.raises(SubmissionError) as refused:
            pool.submit(spec(), ProcessJob(working_dir=str(missing)))
        assert f"working_dir {str(missing)!r} does not exist" in str(refused.value)
        assert "python" not in str(refused.value).lower()

    def test_a_run_gets_a_minimal_environment_not_the_servers(
        self, pool: ProcessPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "server-cloud-secret")
        monkeypatch.setenv("PUSHFLOW_SERVER_SECRET", "signs-run-tokens")
        monkeypatch.setenv("PUSHFLOW_API_KEY_FILE", "/somewhere/api_key")
        out = tmp_path / "env.json"
        code = f"import json, os; open({str(out)!r}, 'w').write(json.dumps(dict(os.environ)))"
        job = ProcessJob(command=python(code), env={"FROM_JOB": "yes"}, log_dir=str(tmp_path / "runs"))
        ref = pool.submit(spec(), job)
        wait_ended(pool, ref)
        pool.release(ref)
        seen = json.loads(out.read_text())
        assert not {"AWS_SECRET_ACCESS_KEY", "PUSHFLOW_SERVER_SECRET", "PUSHFLOW_API_KEY_FILE"} & set(seen)
        assert seen["FROM_JOB"] == "yes"
        # the run imports the same pushflow as the server (PYTHONPATH, PATH are kept)
        assert seen.get("PYTHONPATH") == os.environ.get("PYTHONPATH")
        assert seen["PATH"] == os.environ["PATH"]

    def test_the_pid_and_log_files_are_in_the_ref_and_gone_after_release(
        self, pool: ProcessPool, make_job: Any
    ) -> None:
        ref = pool.submit(spec(), make_job(python("print('out')")))
        wait_ended(pool, ref)
        pid_file, log = Path(ref.locator["pid_file"]), Path(ref.locator["log"])
        assert pid_file.read_text() == ref.id and "out" in log.read_text()
        assert pool.release(ref).log_tail == ["out"]
        assert not pid_file.exists() and not log.exists()

    def test_working_dir_is_where_the_run_starts(self, pool: ProcessPool, tmp_path: Path) -> None:
        out = tmp_path / "cwd"
        job = ProcessJob(
            command=python(f"import os; open({str(out)!r}, 'w').write(os.getcwd())"),
            working_dir=str(tmp_path),
            log_dir=str(tmp_path / "runs"),
        )
        ref = pool.submit(spec(), job)
        assert wait_ended(pool, ref).exit_code == 0
        assert out.read_text() == str(tmp_path)
        pool.release(ref)
