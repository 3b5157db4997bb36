"""The behaviour every push-pool adapter must have, run against each one.

Subclass `PushPoolContract` in a test module and provide two fixtures:
- `pool`: the adapter instance under test (talking to its emulator, for cloud pools);
- `make_job`: a callable `(command: list[str]) -> Job` giving a valid job of that pool
  type that runs `command` (cloud pools: the container simulator runs it locally).
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

from push_pools.base import InfraPhase, InfraRef, RunSpec
from tests.helpers import wait_for

ENDED_TIMEOUT = 60.0


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def spec(**env: str) -> RunSpec:
    run_id = str(uuid.uuid4())
    return RunSpec(
        run_id=run_id,
        env={"PUSHFLOW_FLOW_RUN_ID": run_id, **env},
        secret_env={"PUSHFLOW_RUN_TOKEN": "pfr_secret-for-contract"},
        labels={"pushflow.flow": "contract"},
    )


def wait_ended(pool: Any, ref: InfraRef) -> Any:
    return wait_for(
        lambda: (s := pool.status(ref)).ended and s,
        timeout=ENDED_TIMEOUT,
        what=f"{ref.provider} infrastructure {ref.id} to end",
    )


class PushPoolContract:
    def test_submit_returns_a_reference_of_its_provider(self, pool: Any, make_job: Any) -> None:
        ref = pool.submit(spec(), make_job(python("pass")))
        assert ref.provider == pool.type
        assert ref.id
        wait_ended(pool, ref)

    def test_successful_command_exits_zero(self, pool: Any, make_job: Any) -> None:
        ref = pool.submit(spec(), make_job(python("print('ok')")))
        status = wait_ended(pool, ref)
        assert status.phase is InfraPhase.EXITED
        assert status.exit_code == 0

    def test_failing_command_reports_its_exit_code(self, pool: Any, make_job: Any) -> None:
        ref = pool.submit(spec(), make_job(python("raise SystemExit(3)")))
        status = wait_ended(pool, ref)
        assert status.phase is InfraPhase.EXITED
        assert status.exit_code == 3
        assert "3" in (status.reason or "")

    def test_submit_twice_for_one_run_starts_it_once(self, pool: Any, make_job: Any, tmp_path: Path) -> None:
        marker = tmp_path / "starts.txt"
        job = make_job(python(f"open({str(marker)!r}, 'a').write('started\\n')"))
        run = spec()
        first = pool.submit(run, job)
        second = pool.submit(run, job)
        assert second.id == first.id
        wait_ended(pool, first)
        assert marker.read_text().splitlines() == ["started"]

    def test_env_and_secret_env_reach_the_run(self, pool: Any, make_job: Any, tmp_path: Path) -> None:
        out = tmp_path / "env.json"
        code = (
            "import json, os; json.dump({k: os.environ.get(k) for k in "
            f"('PUSHFLOW_FLOW_RUN_ID', 'PUSHFLOW_RUN_TOKEN', 'EXTRA')}}, open({str(out)!r}, 'w'))"
        )
        run = spec(EXTRA="from-run")
        wait_ended(pool, pool.submit(run, make_job(python(code))))
        seen = json.loads(out.read_text())
        assert seen == {
            "PUSHFLOW_FLOW_RUN_ID": run.run_id,
            "PUSHFLOW_RUN_TOKEN": "pfr_secret-for-contract",
            "EXTRA": "from-run",
        }

    def test_cancel_stops_running_infrastructure(self, pool: Any, make_job: Any, tmp_path: Path) -> None:
        started = tmp_path / "started"
        code = f"import time; open({str(started)!r}, 'w').close(); time.sleep(120)"
        ref = pool.submit(spec(), make_job(python(code)))
        wait_for(started.exists, timeout=ENDED_TIMEOUT, what="the run to start")
        pool.cancel(ref, grace_seconds=2)
        status = wait_ended(pool, ref)
        assert status.exit_code != 0

    def test_logs_show_what_the_run_printed(self, pool: Any, make_job: Any) -> None:
        ref = pool.submit(spec(), make_job(python("print('hello from the run', flush=True)")))
        wait_ended(pool, ref)
        lines = wait_for(
            lambda: [line for line in pool.logs(ref) if "hello from the run" in line],
            timeout=10,
            what="the run's output in its logs",
        )
        assert lines

    def test_unknown_infrastructure_is_missing(self, pool: Any, unknown_ref: InfraRef) -> None:
        assert pool.status(unknown_ref).phase is InfraPhase.MISSING
