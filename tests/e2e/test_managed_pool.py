"""The managed pool end to end, wrapping the ecs pool (moto + the container simulator):
authors deploy a bundle with a size class, no image and no provider knobs; the pool's
quotas hold (concurrent runs, run time, CPU-hours per day)."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from push_pools.base import RunSpec, parse_job
from push_pools.errors import JobConfigError
from push_pools.managed import STOCK_IMAGE, ManagedJob, ManagedPool
from tests.e2e.conftest import cli, provision_pool
from tests.emulators.ecs import EcsEmulator
from tests.helpers import LiveServer, final, trigger, wait_for

FLOW = textwrap.dedent(
    """
    import time

    from runtime import flow


    @flow(log_prints=True)
    def managed(seconds: float = 0.0) -> float:
        time.sleep(seconds)
        print(f"slept {seconds}")
        return seconds
    """
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    (root / "flows.py").write_text(FLOW)
    return root


def managed_pool(ecs_server: LiveServer, name: str, concurrency_limit: int | None = None, **quotas: Any) -> str:
    """A managed pool over ecs, made by the operator once, as docs/pools/managed.md shows."""
    provision_pool(
        ecs_server, name, "managed", *[f"{key}={value}" for key, value in {"inner": "ecs", **quotas}.items()]
    )
    if concurrency_limit is not None:
        limited = cli(ecs_server, "pool", "update", name, "--concurrency-limit", str(concurrency_limit))
        assert limited.returncode == 0, limited.stdout + limited.stderr
    return name


def deploy(ecs_server: LiveServer, project: Path, pool: str, *extra: str) -> dict[str, Any]:
    done = cli(ecs_server, "deploy", "flows.py:managed", "--name", pool, "--pool", pool, *extra, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return ecs_server.client().get(f"/api/deployments/by-name/managed/{pool}").json()  # type: ignore[no-any-return]


def test_a_size_class_becomes_the_inner_pools_cpu_and_memory(
    ecs_server: LiveServer, ecs_emulator: EcsEmulator, project: Path
) -> None:
    pool = managed_pool(ecs_server, "managed-sizes")
    deployment = deploy(ecs_server, project, pool, "--job-var", "size=medium", "--job-var", 'pip_packages=["six"]')
    assert deployment["source"]["type"] == "bundle"  # the default on a managed pool
    api = ecs_server.client()
    run = trigger(api, deployment, job_variables={"env": {"PUSHFLOW_PIP_NO_INDEX": "yes"}}, seconds=0)
    done = final(api, run, timeout=120)
    # six is not on any index offered to it: the install fails, naming it; what matters
    # here is what was submitted.
    assert "six" in (done["state"]["message"] or ""), done["state"]
    ecs = ecs_emulator.client("ecs")
    task = ecs.describe_tasks(cluster="pushflow", tasks=[done["infrastructure"]["id"]])["tasks"][0]
    definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    assert (definition["cpu"], definition["memory"]) == ("1024", "2048")
    assert definition["containerDefinitions"][0]["image"] == STOCK_IMAGE
    container = ecs_emulator.simulator.get(task["taskArn"])
    assert container is not None and container.env["PUSHFLOW_PIP_PACKAGES"] == "six"


def test_sizes_map_per_inner_provider(tmp_path: Path) -> None:
    pool = ManagedPool()
    run = RunSpec(run_id="r1", env={})
    expected = {
        "ecs": {"cpu": 2048, "memory": 4096},
        "cloud-run": {"cpu": "4", "memory": "8Gi"},
        "aci": {"cpu": 4.0, "memory_gb": 8.0},
    }
    inner_defaults = {
        "ecs": {"cluster": "c"},
        "cloud-run": {"project": "p", "region": "europe-west1"},
        "aci": {"subscription_id": "s", "resource_group": "rg", "location": "westeurope"},
    }
    for inner, resources in expected.items():
        job = parse_job(ManagedJob, {"inner": inner, "inner_job": inner_defaults[inner]}, {"size": "large"})
        inner_job = pool.inner_job(run, job).model_dump()
        assert {k: inner_job[k] for k in resources} == resources, inner
        assert inner_job["image"] == STOCK_IMAGE


def test_the_operators_deps_cache_reaches_the_inner_pool_and_must_fit_it() -> None:
    pool = ManagedPool()
    defaults = {"inner": "ecs", "inner_job": {"cluster": "c"}, "deps_cache": {"file_system_id": "fs-0123abcd"}}
    inner = pool.inner_job(RunSpec(run_id="r1", env={}), parse_job(ManagedJob, defaults, {"size": "medium"}))
    assert inner.deps_cache is not None and inner.deps_cache.file_system_id == "fs-0123abcd"
    cloud_run = {"inner": "cloud-run", "inner_job": {"project": "p", "region": "europe-west1"}}
    with pytest.raises(JobConfigError, match="deps_cache is not a cloud-run volume"):
        parse_job(ManagedJob, {**cloud_run, "deps_cache": {"file_system_id": "fs-0123abcd"}})
    job = parse_job(ManagedJob, {**cloud_run, "deps_cache": {"bucket": "pf-deps"}})
    assert pool.inner_job(RunSpec(run_id="r1", env={}), job).deps_cache.bucket == "pf-deps"


def test_authors_cannot_set_the_operators_knobs(ecs_server: LiveServer, project: Path) -> None:
    pool = managed_pool(ecs_server, "managed-knobs")
    args = ["deploy", "flows.py:managed", "--name", "knobs", "--pool", pool, "--job-var", "image=x:1"]
    done = cli(ecs_server, *args, cwd=project)
    assert done.returncode != 0
    assert "image belong to the managed pool's operator" in done.stderr
    assert "size" in done.stderr and "pip_packages" in done.stderr


def test_the_concurrent_run_quota_holds_under_20_triggers(ecs_server: LiveServer, project: Path) -> None:
    pool = managed_pool(ecs_server, "managed-concurrency", concurrency_limit=3)
    deployment = deploy(ecs_server, project, pool)
    api = ecs_server.client()
    created = [trigger(api, deployment, seconds=0.5) for _ in range(20)]
    waiting = [r for r in created if api.get(f"/api/flow-runs/{r['id']}").json()["state"]["type"] == "SCHEDULED"]
    assert waiting, "with 20 triggers and 3 slots some runs must wait"
    done = [final(api, run, timeout=240) for run in created]
    assert {r["state"]["type"] for r in done} == {"COMPLETED"}
    # At no moment were more than 3 runs between start and end.
    events = sorted(
        [(datetime.fromisoformat(r["start_time"]), 1) for r in done]
        + [(datetime.fromisoformat(r["end_time"]), -1) for r in done]
    )
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak <= 3


def test_the_run_time_limit_stops_a_long_run(ecs_server: LiveServer, ecs_emulator: EcsEmulator, project: Path) -> None:
    pool = managed_pool(ecs_server, "managed-time", max_run_seconds=3)
    deployment = deploy(ecs_server, project, pool)
    api = ecs_server.client()
    done = final(api, trigger(api, deployment, seconds=300), timeout=90)
    assert done["state"]["type"] == "CRASHED"
    assert "exceeded the pool's 3 s limit" in done["state"]["message"]

    def stopped() -> bool:
        task = ecs_emulator.client("ecs").describe_tasks(cluster="pushflow", tasks=[done["infrastructure"]["id"]])
        return bool(task["tasks"][0]["lastStatus"] == "STOPPED")

    wait_for(stopped, timeout=30, what="the ECS task to be stopped")


def test_the_daily_cpu_hours_quota_holds_new_runs(ecs_server: LiveServer, project: Path) -> None:
    # 0.0002 vCPU-hours = 1.44 s of a small (0.5 vCPU) ECS task
    pool = managed_pool(ecs_server, "managed-cpu", cpu_hours_per_day=0.0002)
    deployment = deploy(ecs_server, project, pool)
    api = ecs_server.client()
    first = final(api, trigger(api, deployment, seconds=3), timeout=90)
    assert first["state"]["type"] == "COMPLETED"
    held = trigger(api, deployment)

    def awaiting_quota() -> dict[str, Any] | None:
        state = api.get(f"/api/flow-runs/{held['id']}").json()["state"]
        return state if state["name"] == "AwaitingQuota" else None

    state = wait_for(awaiting_quota, timeout=30, what="the run to wait for the quota")
    assert state["type"] == "SCHEDULED"
    assert "used its 0.0002 CPU-hours for today" in state["message"]
