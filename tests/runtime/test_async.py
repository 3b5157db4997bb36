"""Async flows and tasks run through the engine like sync ones: states, retries,
timeouts, caching, hooks, names and logs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from runtime import flow, task
from runtime.attempts import RunTimeoutError
from runtime.context import current_task_run
from runtime.results import LocalFileStorage


@task
async def double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


@task
def add_one(x: int) -> int:
    return x + 1


def test_an_async_flow_awaits_async_tasks_and_calls_sync_ones() -> None:
    @flow
    async def pipeline(x: int) -> int:
        doubled = await double(x)
        return add_one(doubled)

    state = asyncio.run(pipeline(4, return_state=True))
    assert state.is_completed() and state.result() == 9
    assert asyncio.run(pipeline(1)) == 3


def test_gathered_async_tasks_run_concurrently_as_separate_task_runs() -> None:
    names: list[str] = []

    @task
    async def nap(i: int) -> int:
        run = current_task_run()
        assert run is not None
        names.append(run.task_run_name)
        await asyncio.sleep(0.2)
        return i

    @flow
    async def fan_out() -> list[int]:
        return list(await asyncio.gather(*(nap(i) for i in range(10))))

    start = time.monotonic()
    assert asyncio.run(fan_out()) == list(range(10))
    assert time.monotonic() - start < 1.5  # ten 0.2 s naps, together
    assert sorted(names) == sorted(f"nap-{i}" for i in range(10))


def test_submit_and_map_from_async_code_return_awaitable_futures() -> None:
    @flow
    async def submitted() -> list[int]:
        one = double.submit(1)
        many = add_one.map([1, 2, 3])
        return [await one, *many.result()]

    assert asyncio.run(submitted()) == [2, 2, 3, 4]


def test_async_tasks_in_a_sync_flow_run_through_submit() -> None:
    @flow
    def sync_flow() -> list[int]:
        return double.map([1, 2, 3]).result()

    assert sync_flow() == [2, 4, 6]


def test_a_sync_flow_calls_an_async_subflow_with_asyncio_run() -> None:
    @flow
    async def child(x: int) -> int:
        return await double(x)

    @flow
    def parent() -> int:
        return asyncio.run(child(5))

    assert parent() == 10


def test_async_task_retries_and_reports_a_failed_state() -> None:
    calls = {"n": 0}

    @task(retries=2, retry_delay_seconds=0)
    async def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError("not yet")
        return "ok"

    @task
    async def broken() -> None:
        raise ValueError("always")

    @flow
    async def f() -> tuple:
        return await flaky(), await broken(return_state=True)

    value, failed = asyncio.run(f())
    assert value == "ok" and calls["n"] == 3
    assert failed.is_failed() and failed.message == "ValueError: always"
    with pytest.raises(ValueError, match="always"):
        failed.result()


def test_async_task_and_flow_timeouts_cancel_the_body() -> None:
    @task(timeout_seconds=0.2)
    async def slow() -> None:
        await asyncio.sleep(5)

    @flow
    async def f() -> None:
        await slow()

    @flow(timeout_seconds=0.2, flow_run_name="slow-flow")
    async def slow_flow() -> None:
        await asyncio.sleep(5)

    start = time.monotonic()
    state = asyncio.run(f(return_state=True))
    assert isinstance(state.result(raise_on_failure=False), RunTimeoutError)
    assert "Task run 'slow-0' timed out after 0.2s" in state.message
    flow_state = asyncio.run(slow_flow(return_state=True))
    assert "Flow run 'slow-flow' timed out after 0.2s" in flow_state.message
    assert time.monotonic() - start < 3


def test_async_tasks_cache_and_run_hooks(tmp_path: Path) -> None:
    calls = {"n": 0}
    seen: list[str] = []

    @task(
        cache_key_fn=lambda ctx, args: str(args["x"]),
        result_storage=LocalFileStorage(tmp_path),
        on_running=[lambda t, run, s: seen.append(f"running {run.task_run_name}")],
        on_completion=[lambda t, run, s: seen.append(f"{s.name} {run.task_run_name}")],
    )
    async def square(x: int) -> int:
        calls["n"] += 1
        return x * x

    @flow
    async def f() -> list:
        return [await square(3), await square(3, return_state=True)]

    value, cached = asyncio.run(f())
    assert value == 9 and cached.name == "Cached" and cached.result() == 9
    assert calls["n"] == 1
    assert seen == ["running square-0", "Completed square-0", "running square-1", "Cached square-1"]


def test_an_async_task_outside_a_flow_is_a_plain_coroutine() -> None:
    assert asyncio.run(double(21)) == 42


def test_async_runs_log_like_sync_ones(run_logs: list[str]) -> None:
    @flow(flow_run_name="logged")
    async def f() -> int:
        return await double(1)

    asyncio.run(f())
    assert run_logs == [
        "Flow run 'logged' - Beginning flow run 'logged' for flow 'f'",
        "Task run 'double-0' - Finished in state Completed()",
        "Flow run 'logged' - Finished in state Completed()",
    ]


def test_a_submitted_async_task_does_not_leave_background_work_running() -> None:
    finished: list[str] = []

    @task
    async def spawns(i: int) -> str:
        async def linger() -> None:
            await asyncio.sleep(5)
            finished.append("leftover ran")

        asyncio.get_running_loop().create_task(linger())
        return "done"

    @flow
    def f() -> list[str]:
        return spawns.map(range(3)).result()

    start = time.monotonic()
    assert f() == ["done", "done", "done"]
    assert time.monotonic() - start < 3 and finished == []
