"""Flows written the way Prefect's documentation writes them, one (or two) per concept
page, with only the import lines changed. tests/runtime/test_prefect_docs.py runs each
one called as a function and from a deployment, and expects the same behaviour.

`mark(...)` counts body executions in a folder named by DOCS_MARKS (a no-op without it);
each flow persists its result so the deployed run's return value can be read back.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

from pushflow import flow, get_run_logger, runtime, task
from pushflow.cache_policies import INPUTS, TASK_SOURCE
from pushflow.task_runners import ThreadPoolTaskRunner


def mark(what: str) -> int:
    """Record one execution of `what`; returns how many there have been."""
    folder = os.environ.get("DOCS_MARKS")
    if not folder:
        return 0
    path = Path(folder) / what
    with path.open("a") as fh:
        fh.write("x")
    return len(path.read_text())


# Flows ---------------------------------------------------------------------------------


@flow(log_prints=True, persist_result=True)
def hello_world(name: str = "world") -> str:
    mark("hello_world")
    print(f"Hello {name}!")
    return f"Hello {name}!"


@flow(retries=2, persist_result=True)
def flaky_flow() -> str:
    if mark("flaky_flow") < 2:
        raise ConnectionError("the API is down")
    return "made it"


# Tasks ---------------------------------------------------------------------------------


@task(retries=2, retry_delay_seconds=0)
def get_data(source: str) -> list[int]:
    if mark("get_data") < 2:
        raise TimeoutError(f"{source} timed out")
    return [1, 2, 3]


@task(task_run_name="transform-{factor}")
def transform(data: list[int], factor: int) -> list[int]:
    mark("transform")
    return [x * factor for x in data]


@flow(persist_result=True)
def etl(factor: int = 10) -> list[int]:
    return transform(get_data("warehouse"), factor)


# States --------------------------------------------------------------------------------


@task
def might_fail(fail: bool) -> str:
    mark("might_fail")
    if fail:
        raise ValueError("this task failed")
    return "fine"


@flow(persist_result=True)
def handles_failure() -> str:
    state = might_fail(True, return_state=True)
    if state.is_failed():
        return f"recovered from: {state.message}"
    return state.result()


@flow(persist_result=True)
def always_fails() -> None:
    mark("always_fails")
    raise ValueError("this flow failed")


# Results -------------------------------------------------------------------------------


@task(persist_result=True)
def expensive(x: int) -> int:
    mark("expensive")
    return x * x


@flow(persist_result=True)
def results_flow() -> dict:
    first, again = expensive(4, return_state=True), expensive(4, return_state=True)
    return {"value": first.result(), "second_state": again.name}


# Caching -------------------------------------------------------------------------------


@task(cache_policy=INPUTS + TASK_SOURCE, cache_expiration=timedelta(hours=1))
def hello_task(name_input: str) -> str:
    mark("hello_task")
    return f"hello {name_input}"


@flow(persist_result=True)
def caching_flow() -> list[str]:
    return [hello_task("marvin"), hello_task("marvin"), hello_task("ford")]


# Task runners --------------------------------------------------------------------------


@task
def square(x: int) -> int:
    mark("square")
    return x * x


@flow(task_runner=ThreadPoolTaskRunner(max_workers=4), persist_result=True)
def concurrent_squares(n: int = 5) -> int:
    futures = square.map(range(n))
    extra = square.submit(10)
    return sum(futures.result()) + extra.result()


# Runtime context -----------------------------------------------------------------------


@task
def whoami() -> str:
    return f"{runtime.task_run.task_name} in {runtime.flow_run.flow_name}"


@flow(persist_result=True)
def context_flow(x: int = 1) -> dict:
    return {"task": whoami(), "parameters": runtime.flow_run.parameters, "run_count": runtime.flow_run.run_count}


# Logging -------------------------------------------------------------------------------


@task
def log_task() -> None:
    logger = get_run_logger()
    logger.info("INFO level log message from a task.")


@flow(persist_result=True)
def logger_flow() -> str:
    logger = get_run_logger()
    logger.info("INFO level log message.")
    logger.debug("DEBUG level log message.")
    logger.warning("WARNING level log message.")
    log_task()
    return "logged"


# Async ---------------------------------------------------------------------------------


@task
async def fetch(i: int) -> int:
    mark("fetch")
    await asyncio.sleep(0.01)
    return i


@flow(persist_result=True)
async def async_flow(n: int = 3) -> list[int]:
    fetched = await asyncio.gather(*(fetch(i) for i in range(n)))
    return [*fetched, square(2)]
