from __future__ import annotations

import pytest

from runtime import DaskTaskRunner, flow, task

pytest.importorskip("distributed")


@task
def where(x: int) -> tuple[int, str]:
    import threading

    return x * 10, threading.current_thread().name


@task(retries=1)
def flaky_once(marker: str) -> str:
    import pathlib

    path = pathlib.Path(marker)
    if not path.exists():
        path.write_text("x")
        raise ConnectionError("first attempt")
    return "ok"


def test_mapped_tasks_run_on_dask_workers_with_retries(tmp_path) -> None:
    runner = DaskTaskRunner(
        cluster_kwargs={
            "n_workers": 1,
            "processes": False,
            "threads_per_worker": 2,
            "dashboard_address": None,
        }
    )

    @flow(task_runner=runner)
    def fan_out(n: int, marker: str):
        return where.map(range(n)).result(), flaky_once.submit(marker).result()

    results, retried = fan_out(4, str(tmp_path / "m"))
    assert [value for value, _ in results] == [0, 10, 20, 30]
    # Task bodies ran on Dask worker threads, not in pushflow's own pool.
    assert not any(thread.startswith("pushflow-task") for _, thread in results)
    assert retried == "ok"
