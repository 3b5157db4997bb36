from __future__ import annotations

import pytest

from runtime import Flow, Parameter, Task, task
from runtime.errors import ParameterError


@task
def inc(x: int) -> int:
    return x + 1


@task
def fail(x: int) -> int:
    raise ValueError(f"cannot handle {x}")


class Multiply(Task):
    def run(self, x: int, by: int = 2) -> int:
        return x * by


def test_a_failed_task_stops_everything_downstream_and_the_flow_says_so() -> None:
    ran = []

    @task
    def record(x: int) -> None:
        ran.append(x)

    with Flow("breaks") as f:
        a = inc(1)
        b = fail(a)
        c = record(b)
        d = record(5, upstream_tasks=[c])
        ok = inc(10)

    state = f.run()
    assert not state.is_successful()
    assert state.is_failed()
    assert state.result[a].is_successful()
    assert state.result[b].name == "Failed"
    assert isinstance(state.result[b].result(raise_on_failure=False), ValueError)
    for node in (c, d):
        assert state.result[node].name == "TriggerFailed"
    assert "upstream task 'fail' finished in state Failed" in state.result[c].message
    assert "upstream task 'record' finished in state TriggerFailed" in state.result[d].message
    assert state.result[ok].result == 11
    assert ran == []
    assert state.message == "Some reference tasks failed: record (TriggerFailed)"


def test_task_subclasses_parameters_and_defaults() -> None:
    with Flow("params") as f:
        x = Parameter("x")
        by = Parameter("by", default=3)
        product = Multiply()(x, by=by)

    assert f.run(x=5).result[product].result == 15
    assert f.run(parameters={"x": 5, "by": 4}).result[product].result == 20


def test_parameters_are_checked() -> None:
    with Flow("params") as f:
        inc(Parameter("x"))

    with pytest.raises(ParameterError, match="parameter 'x' is required"):
        f.run()
    with pytest.raises(ParameterError, match="parameter\\(s\\) 'y' not accepted by the flow"):
        f.run(x=1, y=2)
    assert f.parameter_schema() == {
        "type": "object",
        "properties": {"x": {}},
        "required": ["x"],
        "additionalProperties": False,
    }


def test_calling_a_task_twice_makes_two_nodes_and_copy_makes_a_third() -> None:
    with Flow("copies") as f:
        one = inc(1)
        two = inc(one)
    three = inc.copy()
    f.add_task(three)
    three.bind(x=two, flow=f)
    state = f.run()
    assert [state.result[t].result for t in (one, two, three)] == [2, 3, 4]
    assert len(f.tasks) == 3 and inc not in f.tasks


def test_a_cycle_is_refused() -> None:
    a, b = inc.copy(), inc.copy()
    f = Flow("cycle")
    f.add_edge(a, b, key="x")
    with pytest.raises(ValueError, match="would create a cycle"):
        b.set_downstream(a, flow=f)


def test_bind_outside_a_flow_says_what_to_do() -> None:
    with pytest.raises(ValueError, match=r"bind\(\) needs a flow: pass flow=\.\.\."):
        inc.copy().bind(x=1)


def test_node_tasks_get_retries_like_any_task() -> None:
    calls = {"n": 0}

    @task(retries=2)
    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError("again")
        return "done"

    with Flow("retry") as f:
        node = flaky()
    assert f.run().result[node].result == "done"


def test_reference_tasks_decide_the_flow_state() -> None:
    with Flow("refs") as f:
        good = inc(1)
        fail(1)
    f.set_reference_tasks([good])
    assert f.run().is_successful()


def test_flow_and_task_run_ids_are_random_version_4_uuids() -> None:
    import uuid

    from pushflow import flow, runtime

    @task
    def task_run_id() -> str:
        return str(runtime.task_run.id)

    @flow
    def ids() -> list[str]:
        return [str(runtime.flow_run.id), task_run_id(), task_run_id()]

    found = ids() + ids()
    assert len(set(found)) == len(found)
    parsed = [uuid.UUID(i) for i in found]
    assert [str(u) for u in parsed] == found
    assert {(u.version, u.variant) for u in parsed} == {(4, uuid.RFC_4122)}
