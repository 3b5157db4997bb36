"""The behaviour every push-pool adapter must have, run against each one.

Subclass `PushPoolContract` in a test module and provide these fixtures:
- `pool`: the adapter instance under test (talking to its emulator, for cloud pools);
- `second_pool`: a second, separately built instance of the same adapter, sharing no
  memory with `pool` (what another control-plane process would have);
- `make_job`: a callable `(command: list[str]) -> Job` giving a valid job of that pool
  type that runs `command` (cloud pools: the container simulator runs it locally);
- `unknown_ref`: a ref the provider has never seen;
- `exists`: `(ref) -> bool`, whether the provider still holds the attempt's resources;
- `stall_provisioning` (when `can_stall_provisioning`): a context manager during which
  the provider accepts new runs but keeps provisioning them;
- `lose_create_answer` (when `can_lose_create_answer`): a context manager during which
  the provider carries out the next create but its answer never arrives;
- `deps_cache_volume` (when `can_mount_deps_cache`): `(deps_cache job variables, host
  folder)` for a volume that exists in the emulator, and the folder standing for it.

Capability flags, as huey's storage tests have them, instead of per-adapter special cases.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

import pytest

from push_pools.base import InfraPhase, InfraRef, PushPool, Released, RunSpec
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


def sleeper(started: Path) -> list[str]:
    return python(f"import time; open({str(started)!r}, 'w').close(); time.sleep(120)")


class PushPoolContract:
    # The provider can be held in "provisioning" (so submit must not wait for it).
    can_stall_provisioning: ClassVar[bool] = True
    # The provider can be made to lose the answer to a create it carried out.
    can_lose_create_answer: ClassVar[bool] = True
    # The job template has `deps_cache`: a provider volume at the runtime's PUSHFLOW_DEPS_CACHE.
    can_mount_deps_cache: ClassVar[bool] = True
    # Which tests each flag brings; an adapter without the capability does not have them
    # (rather than skipping them, which would count as passing).
    _NEEDS: ClassVar[dict[str, str]] = {
        "test_submit_returns_within_its_timeout_while_provisioning": "can_stall_provisioning",
        "test_a_create_whose_answer_was_lost_still_yields_one_resource": "can_lose_create_answer",
        "test_runs_share_the_deps_cache_volume": "can_mount_deps_cache",
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for test, flag in PushPoolContract._NEEDS.items():
            if not getattr(cls, flag):
                setattr(cls, test, None)  # not collected

    def test_submit_returns_a_reference_of_its_provider(self, pool: PushPool[Any], make_job: Any) -> None:
        ref = pool.submit(spec(), make_job(python("pass")), timeout=30)
        assert ref.provider == pool.kind
        assert ref.id
        wait_ended(pool, ref)
        pool.release(ref)

    def test_successful_command_exits_zero(self, pool: PushPool[Any], make_job: Any) -> None:
        ref = pool.submit(spec(), make_job(python("print('ok')")), timeout=30)
        status = wait_ended(pool, ref)
        assert status.phase is InfraPhase.EXITED
        assert status.exit_code == 0
        pool.release(ref)

    def test_failing_command_reports_its_exit_code(self, pool: PushPool[Any], make_job: Any) -> None:
        ref = pool.submit(spec(), make_job(python("raise SystemExit(3)")), timeout=30)
        status = wait_ended(pool, ref)
        assert status.phase is InfraPhase.EXITED
        assert status.exit_code == 3
        assert "3" in (status.reason or "")
        pool.release(ref)

    def test_submit_twice_for_one_run_starts_it_once(self, pool: PushPool[Any], make_job: Any, tmp_path: Path) -> None:
        marker = tmp_path / "starts.txt"
        job = make_job(python(f"open({str(marker)!r}, 'a').write('started\\n')"))
        run = spec()
        first = pool.submit(run, job, timeout=30)
        second = pool.submit(run, job, timeout=30)
        assert second.id == first.id
        wait_ended(pool, first)
        assert marker.read_text().splitlines() == ["started"]
        pool.release(first)

    def test_attempt_two_starts_new_infrastructure(self, pool: PushPool[Any], make_job: Any, tmp_path: Path) -> None:
        marker = tmp_path / "starts.txt"
        job = make_job(python(f"open({str(marker)!r}, 'a').write('started\\n')"))
        run = spec()
        first = pool.submit(run, job, timeout=30)
        wait_ended(pool, first)
        second = pool.submit(dataclasses.replace(run, attempt=2), job, timeout=30)
        assert second.id != first.id
        assert wait_ended(pool, second).exit_code == 0
        assert marker.read_text().splitlines() == ["started", "started"]
        pool.release(first)
        pool.release(second)

    def test_env_and_secret_env_reach_the_run(self, pool: PushPool[Any], make_job: Any, tmp_path: Path) -> None:
        out = tmp_path / "env.json"
        code = (
            "import json, os; json.dump({k: os.environ.get(k) for k in "
            f"('PUSHFLOW_FLOW_RUN_ID', 'PUSHFLOW_RUN_TOKEN', 'EXTRA')}}, open({str(out)!r}, 'w'))"
        )
        run = spec(EXTRA="from-run")
        ref = pool.submit(run, make_job(python(code)), timeout=30)
        wait_ended(pool, ref)
        seen = json.loads(out.read_text())
        assert seen == {
            "PUSHFLOW_FLOW_RUN_ID": run.run_id,
            "PUSHFLOW_RUN_TOKEN": "pfr_secret-for-contract",
            "EXTRA": "from-run",
        }
        pool.release(ref)

    def test_runs_share_the_deps_cache_volume(
        self, pool: PushPool[Any], make_job: Any, deps_cache_volume: tuple[dict[str, Any], Path]
    ) -> None:
        """The volume is mounted where PUSHFLOW_DEPS_CACHE says: what one run leaves in its
        requirements cache, the next run (a new container) finds."""
        variables, folder = deps_cache_volume
        code = (
            "import os, pathlib, sys; left = pathlib.Path(os.environ['PUSHFLOW_DEPS_CACHE']) / 'left'; "
            "seen = left.read_text() if left.exists() else ''; left.write_text(seen + sys.argv[1] + ' ')"
        )
        for name in ("one", "two"):
            ref = pool.submit(spec(), make_job([*python(code), name], deps_cache=variables), timeout=30)
            assert wait_ended(pool, ref).exit_code == 0
            pool.release(ref)
        assert (folder / "left").read_text() == "one two "

    def test_cancel_stops_running_infrastructure(self, pool: PushPool[Any], make_job: Any, tmp_path: Path) -> None:
        started = tmp_path / "started"
        ref = pool.submit(spec(), make_job(sleeper(started)), timeout=30)
        wait_for(started.exists, timeout=ENDED_TIMEOUT, what="the run to start")
        pool.cancel(ref, grace=2)
        status = wait_ended(pool, ref)
        assert status.exit_code != 0
        pool.release(ref)

    def test_logs_show_what_the_run_printed(self, pool: PushPool[Any], make_job: Any) -> None:
        ref = pool.submit(spec(), make_job(python("print('hello from the run', flush=True)")), timeout=30)
        wait_ended(pool, ref)
        lines = wait_for(
            lambda: [line for line in pool.logs(ref) if "hello from the run" in line],
            timeout=10,
            what="the run's output in its logs",
        )
        assert lines
        pool.release(ref)

    def test_unknown_infrastructure_is_missing(self, pool: PushPool[Any], unknown_ref: InfraRef) -> None:
        assert pool.status(unknown_ref).phase is InfraPhase.MISSING

    # statelessness and release ---------------------------------------------------------

    def test_a_second_adapter_finds_cancels_and_releases_what_the_first_submitted(
        self, pool: PushPool[Any], second_pool: PushPool[Any], make_job: Any, exists: Any, tmp_path: Path
    ) -> None:
        started = tmp_path / "started"
        ref = pool.submit(spec(), make_job(sleeper(started)), timeout=30)
        wait_for(started.exists, timeout=ENDED_TIMEOUT, what="the run to start")
        # Only what is in the ref crosses over: as if persisted and read back elsewhere.
        stored = InfraRef(**json.loads(json.dumps(dataclasses.asdict(ref))))
        assert second_pool.status(stored).phase is InfraPhase.RUNNING
        second_pool.cancel(stored, grace=2)
        assert wait_ended(second_pool, stored).exit_code != 0
        released = second_pool.release(stored)
        assert released.last_status.ended
        wait_for(lambda: not exists(stored), timeout=ENDED_TIMEOUT, what="the released resources to be gone")

    def test_status_never_deletes(self, pool: PushPool[Any], make_job: Any, exists: Any) -> None:
        ref = pool.submit(spec(), make_job(python("print('still here', flush=True)")), timeout=30)
        for _ in range(3):
            wait_ended(pool, ref)
        assert exists(ref)
        assert pool.status(ref).exit_code == 0
        released = pool.release(ref)
        assert released.last_status.exit_code == 0
        assert any("still here" in line for line in released.log_tail)
        wait_for(lambda: not exists(ref), timeout=ENDED_TIMEOUT, what="the released resources to be gone")

    def test_release_twice_is_fine(self, pool: PushPool[Any], make_job: Any, exists: Any) -> None:
        ref = pool.submit(spec(), make_job(python("pass")), timeout=30)
        wait_ended(pool, ref)
        assert isinstance(pool.release(ref), Released)
        assert isinstance(pool.release(ref), Released)
        wait_for(lambda: not exists(ref), timeout=ENDED_TIMEOUT, what="the released resources to be gone")
        assert isinstance(pool.release(ref), Released)

    def test_release_stops_infrastructure_that_still_runs(
        self, pool: PushPool[Any], make_job: Any, exists: Any, tmp_path: Path
    ) -> None:
        started = tmp_path / "started"
        ref = pool.submit(spec(), make_job(sleeper(started)), timeout=30)
        wait_for(started.exists, timeout=ENDED_TIMEOUT, what="the run to start")
        pool.release(ref)
        wait_for(lambda: not exists(ref), timeout=ENDED_TIMEOUT, what="the released resources to be gone")

    def test_submit_returns_within_its_timeout_while_provisioning(
        self, pool: PushPool[Any], make_job: Any, request: pytest.FixtureRequest
    ) -> None:
        with request.getfixturevalue("stall_provisioning"):
            begun = time.monotonic()
            ref = pool.submit(spec(), make_job(python("pass")), timeout=5)
            assert time.monotonic() - begun < 5
            assert pool.status(ref).phase is InfraPhase.PENDING
        assert wait_ended(pool, ref).exit_code == 0
        pool.release(ref)

    def test_a_create_whose_answer_was_lost_still_yields_one_resource(
        self, pool: PushPool[Any], make_job: Any, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        marker = tmp_path / "starts.txt"
        job = make_job(python(f"open({str(marker)!r}, 'a').write('started\\n')"))
        run = spec()
        with request.getfixturevalue("lose_create_answer"):
            try:
                ref = pool.submit(run, job, timeout=10)
            except Exception:  # the adapter may give up on this call: the next submit must find it
                ref = None
        again = pool.submit(run, job, timeout=10)
        assert ref is None or again.id == ref.id
        assert wait_ended(pool, again).exit_code == 0
        assert marker.read_text().splitlines() == ["started"]
        pool.release(again)
