"""The public package: what `from pushflow import ...` offers is pinned here, so a change
to it is a decision, not an accident. `import pushflow` stays light."""

from __future__ import annotations

import subprocess
import sys

import pushflow
from pushflow import cache_policies, futures, states, task_runners
from pushflow.utilities import annotations


def test_the_top_level_exports_are_pinned() -> None:
    assert sorted(pushflow.__all__) == [
        "Flow",
        "FlowFunction",
        "FlowRunFailed",
        "FunctionTask",
        "Parameter",
        "ParameterError",
        "PushflowError",
        "PushflowFuture",
        "RunTimeoutError",
        "State",
        "StateType",
        "Task",
        "ThreadPoolTaskRunner",
        "allow_failure",
        "emit_event",
        "exponential_backoff",
        "flow",
        "get_run_logger",
        "tags",
        "task",
        "unmapped",
        "wait",
    ]
    for name in pushflow.__all__:
        assert getattr(pushflow, name) is not None


def test_the_prefect_named_modules_are_pinned() -> None:
    assert sorted(cache_policies.__all__) == [
        "CacheKeyFnPolicy",
        "CachePolicy",
        "CompoundCachePolicy",
        "DEFAULT",
        "FLOW_PARAMETERS",
        "INPUTS",
        "Inputs",
        "NONE",
        "NO_CACHE",
        "RUN_ID",
        "TASK_SOURCE",
    ]
    assert {"Completed", "Failed", "Crashed", "Cancelled", "Pending", "Running", "Scheduled", "State"} <= set(
        states.__all__
    )
    assert set(futures.__all__) == {"PrefectFuture", "PushflowFuture", "PushflowFutureList", "wait"}
    assert set(task_runners.__all__) == {"DaskTaskRunner", "ThreadPoolTaskRunner"}
    assert set(annotations.__all__) == {"BaseAnnotation", "allow_failure", "opaque", "quote", "unmapped"}
    from pushflow.runtime import deployment, flow_run, task_run

    assert sorted(flow_run.ATTRIBUTES) == [
        "deployment_id",
        "flow_name",
        "id",
        "job_variables",
        "name",
        "parameters",
        "parent_flow_run_id",
        "run_count",
        "scheduled_start_time",
        "tags",
    ]
    assert sorted(task_run.ATTRIBUTES) == ["id", "name", "parameters", "run_count", "tags", "task_name"]
    assert sorted(deployment.ATTRIBUTES) == ["flow_run_id", "id", "name", "parameters"]


def test_the_old_import_keeps_working() -> None:
    import runtime

    assert runtime.flow is pushflow.flow and runtime.task is pushflow.task


def test_import_pushflow_loads_neither_pydantic_nor_httpx() -> None:
    code = (
        "import sys, pushflow, pushflow.runtime, pushflow.cache_policies, pushflow.states, pushflow.futures,"
        " pushflow.task_runners, pushflow.utilities.annotations\n"
        "print(sorted(m for m in ('pydantic', 'httpx', 'anyio') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_names_load_their_module_when_first_used() -> None:
    code = (
        "import sys, runtime, pushflow\n"
        "print(sorted(m for m in sys.modules if m.startswith('runtime.')))\n"
        "from runtime import flow\n"
        "print('runtime.flows' in sys.modules, 'runtime.graph' in sys.modules)\n"
        "print(all(getattr(p, n) is not None for p in (runtime, pushflow) for n in p.__all__))\n"
        "print(set(runtime.__all__) <= set(dir(runtime)), runtime.Flow is pushflow.Flow)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:4] == ["['runtime.exports']", "True False", "True", "True True"]
    missing = subprocess.run([sys.executable, "-c", "import runtime; runtime.nope"], capture_output=True, text=True)
    assert "AttributeError: module 'runtime' has no attribute 'nope'" in missing.stderr
