"""Options Prefect users reach for: run names, jitter, cache policies, persisted results,
hooks, with_options, parameter validation, the runtime context, tags and annotations."""

from __future__ import annotations

import datetime
import enum
import re
import subprocess
import sys
from pathlib import Path

import pydantic
import pytest

from pushflow import ParameterError, allow_failure, flow, tags, task
from pushflow import runtime as pf_runtime
from pushflow.cache_policies import INPUTS, NONE, RUN_ID, TASK_SOURCE
from pushflow.states import Completed, Failed
from pushflow.utilities.annotations import quote
from runtime.results import LocalFileStorage


def test_run_names_from_templates_and_callables(run_logs: list[str]) -> None:
    @task(task_run_name="fetch-{user}")
    def fetch(user: str) -> str:
        return pf_runtime.task_run.name

    @task(task_run_name=lambda: f"save-{pf_runtime.task_run.parameters['n']}")
    def save(n: int) -> str:
        return pf_runtime.task_run.name

    @flow(flow_run_name="report-{day:%Y-%m-%d}")
    def report(day: datetime.date) -> tuple:
        return pf_runtime.flow_run.name, fetch("ada"), save(3)

    assert report(datetime.date(2026, 12, 1)) == ("report-2026-12-01", "fetch-ada", "save-3")
    assert "Task run 'fetch-ada' - Finished in state Completed()" in run_logs


def test_a_run_name_template_naming_an_unknown_parameter_says_so() -> None:
    @flow(flow_run_name="x-{nope}")
    def f(a: int = 1) -> None:
        pass

    with pytest.raises(ValueError, match=r"names 'nope' but the run's parameters are \['a'\]"):
        f()


def test_local_flow_runs_get_generated_names() -> None:
    @flow
    def named() -> str:
        return pf_runtime.flow_run.name

    first, second = named(), named()
    assert first != "named" and "-" in first and first.islower()
    assert pf_runtime.flow_run.name is None  # outside a run
    assert isinstance(second, str)


def test_retry_jitter_factor_spreads_the_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    from runtime import attempts

    waits: list[float] = []
    monkeypatch.setattr(attempts.time, "sleep", waits.append)
    calls = {"n": 0}

    @task(retries=3, retry_delay_seconds=10, retry_jitter_factor=0.5)
    def flaky() -> None:
        calls["n"] += 1
        raise ConnectionError("down")

    @flow
    def f() -> None:
        flaky()

    assert f(return_state=True).is_failed()
    assert calls["n"] == 4 and len(waits) == 3
    assert all(10 <= w <= 15 for w in waits)


def counting(storage: LocalFileStorage, **options: object):
    calls: list[int] = []

    @task(result_storage=storage, **options)
    def square(x: int, debug: bool = False) -> int:
        calls.append(x)
        return x * x

    return square, calls


@pytest.fixture
def storage(tmp_path: Path) -> LocalFileStorage:
    return LocalFileStorage(tmp_path / "results")


def test_cache_policies_combine(storage: LocalFileStorage) -> None:
    by_inputs, calls = counting(storage, cache_policy=INPUTS - "debug")

    @flow
    def f() -> list[str]:
        return [by_inputs(2, return_state=True).name, by_inputs(2, debug=True, return_state=True).name]

    assert f() == ["Completed", "Cached"]
    assert f() == ["Cached", "Cached"]  # INPUTS alone outlives the flow run
    assert calls == [2]

    per_run, run_calls = counting(storage, cache_policy=INPUTS + TASK_SOURCE + RUN_ID)

    @flow
    def g() -> list[str]:
        return [per_run(3, return_state=True).name, per_run(3, return_state=True).name]

    assert g() == ["Completed", "Cached"]
    assert g() == ["Completed", "Cached"]  # RUN_ID: a new flow run, a new key
    assert run_calls == [3, 3]

    never, never_calls = counting(storage, cache_policy=NONE)

    @flow
    def h() -> None:
        never(4), never(4)

    h()
    assert never_calls == [4, 4]


def test_persisted_results_are_cached_by_inputs_within_a_run(storage: LocalFileStorage) -> None:
    square, calls = counting(storage, persist_result=True)

    @flow
    def f() -> list:
        return [square(5, return_state=True), square(5, return_state=True), square(6)]

    first, second, other = f()
    assert (first.name, second.name, other) == ("Completed", "Cached", 36)
    assert first.result_key.startswith("results/") and (storage.basepath / first.result_key).exists()
    assert calls == [5, 6]


def test_flow_hooks_on_running_and_on_crashed() -> None:
    seen: list[str] = []

    @flow(
        on_running=[lambda fl, run, state: seen.append(f"running {state.name}")],
        on_crashed=[lambda fl, run, state: seen.append(f"crashed {state.name}")],
    )
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert seen == ["running Running", "crashed Crashed"]


def test_flow_with_options_makes_a_changed_copy() -> None:
    calls = {"n": 0}

    @flow
    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 2:
            raise ConnectionError("once")
        return pf_runtime.flow_run.name

    patient = flaky.with_options(retries=1, flow_run_name="patient", name="patient-flow")
    assert patient() == "patient" and calls["n"] == 2
    assert (flaky.retries, patient.name) == (0, "patient-flow")
    with pytest.raises(TypeError, match="unknown option 'retry'"):
        flaky.with_options(retry=3)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(pydantic.BaseModel):
    x: int
    y: int


def test_parameters_are_validated_and_coerced_when_a_flow_is_called() -> None:
    @flow
    def typed(when: datetime.datetime, color: Color, at: Point, n: int = 1) -> tuple:
        return when, color, at, n

    when, color, at, n = typed("2026-12-01T10:00:00+00:00", "red", {"x": 1, "y": 2}, n="3")
    assert when == datetime.datetime(2026, 12, 1, 10, tzinfo=datetime.timezone.utc)
    assert (color, at, n) == (Color.RED, Point(x=1, y=2), 3)

    with pytest.raises(ParameterError) as caught:
        typed("2026-12-01T10:00:00", "red", {"x": 1, "y": 2}, n="lots")
    assert str(caught.value) == (
        "invalid parameters: parameter 'n': expected integer, got 'lots' ('lots' is not of type 'integer')"
    )


def test_a_deployed_runs_plain_parameters_are_checked_without_pydantic() -> None:
    """`pushflow execute` validates a run's parameters by name: values already of their
    plain types come back as pydantic would return them (defaults filled, an int for a float
    made a float, extra names kept for **kwargs), without importing it; anything else is
    pydantic's to coerce or explain, as before."""
    code = """
import sys
from runtime import flow

@flow
def plain(n: int, x: float = 0.5, name: str = "a", flag: bool = False, **extra):
    return n

print(plain.validate_parameters({"n": 3, "x": 1, "flag": True, "more": [1]}), "pydantic" in sys.modules)
print(plain.validate_parameters({"n": "4", "x": 2.5}), "pydantic" in sys.modules)
"""
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines == [
        "{'n': 3, 'x': 1.0, 'name': 'a', 'flag': True, 'more': [1]} False",
        "{'n': 4, 'x': 2.5, 'name': 'a', 'flag': False} True",
    ]

    @flow
    def strict(n: int) -> int:
        return n

    assert strict.validate_parameters({"n": True}) == {"n": 1}  # pydantic's answer, as before
    for bad, reason in (({}, "parameter 'n' is required"), ({"n": 1, "zz": 2}, "parameter(s) 'zz' not accepted")):
        with pytest.raises(ParameterError, match=re.escape(reason)):
            strict.validate_parameters(bad)


def test_validate_parameters_false_passes_values_through() -> None:
    @flow(validate_parameters=False)
    def loose(n: int) -> object:
        return n

    assert loose("3") == "3"


def test_runtime_context_reads_the_current_runs() -> None:
    @task
    def inner() -> dict:
        return {"task": pf_runtime.task_run.task_name, "flow": pf_runtime.flow_run.flow_name}

    @flow(flow_run_name="ctx")
    def outer(a: int) -> dict:
        return {
            **inner(),
            "params": pf_runtime.flow_run.parameters,
            "count": pf_runtime.flow_run.run_count,
            "deployment": pf_runtime.deployment.id,
            "scheduled": pf_runtime.flow_run.scheduled_start_time <= datetime.datetime.now(datetime.timezone.utc),
        }

    assert outer(7) == {
        "task": "inner",
        "flow": "outer",
        "params": {"a": 7},
        "count": 1,
        "deployment": None,
        "scheduled": True,
    }
    assert pf_runtime.task_run.id is None and pf_runtime.flow_run.parameters == {}
    with pytest.raises(AttributeError, match="has no attribute 'idd'"):
        pf_runtime.flow_run.idd  # noqa: B018


def test_tags_context_adds_tags_to_task_runs() -> None:
    @task(tags=["db"])
    def tagged() -> list:
        return pf_runtime.task_run.tags

    @flow
    def f() -> list:
        with tags("nightly"), tags("etl"):
            return tagged()

    assert f() == ["db", "etl", "nightly"]


def test_quote_and_allow_failure() -> None:
    @task
    def explode() -> None:
        raise ValueError("upstream broke")

    @task
    def describe(value: object) -> str:
        return type(value).__name__

    @flow
    def f() -> list:
        broken = explode.submit()
        future_inside = describe.submit(1)
        return [
            describe(allow_failure(broken)),
            describe(quote([future_inside])),
            describe.submit(broken, return_state=True) if False else describe.submit(broken).state.name,
        ]

    first, second, third = f()
    assert first == "ValueError"  # the upstream's exception, and the task ran
    assert second == "list"
    assert third in ("TriggerFailed", "Pending")


def test_states_read_like_prefects() -> None:
    done, failed = Completed(data=3), Failed(message="ValueError: no", data=ValueError("no"))
    assert done.result() == 3 and done.result == 3 and str(done) == "Completed()"
    assert failed.is_failed() and not failed.is_crashed() and not failed.is_cancelled()
    assert (failed.type.value, failed.name, failed.message) == ("FAILED", "Failed", "ValueError: no")
    with pytest.raises(ValueError, match="no"):
        failed.result()
    assert isinstance(failed.result(raise_on_failure=False), ValueError)


@flow
def counted(n: int, label: str = "x") -> int:
    return n


def test_a_bad_parameter_reads_the_same_called_or_sent_to_a_deployment(live_server) -> None:
    with pytest.raises(ParameterError) as caught:
        counted("lots")
    with live_server.client() as api:
        deployment = api.post(
            "/api/deployments",
            json={
                "name": "params",
                "flow_name": counted.name,
                "entrypoint": "test_options.py:counted",
                "working_dir": str(Path(__file__).parent),
                "pool": "local",
                "parameter_schema": counted.parameter_schema(),
            },
        ).json()
        refused = api.post(f"/api/deployments/{deployment['id']}/runs", json={"parameters": {"n": "lots"}})
    assert refused.status_code == 422
    assert refused.json()["detail"] == str(caught.value)
    assert str(caught.value).startswith("invalid parameters: parameter 'n': expected integer, got 'lots'")
