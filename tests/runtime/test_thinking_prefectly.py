# ruff: noqa: E402, E501, F811, I001, UP032 - the guide's code, kept as written
"""The examples of Prefect Core's "Thinking Prefectly", unchanged except for the import
lines (`from prefect import ...` -> `from runtime import ...`)."""

from __future__ import annotations

from typing import Any

import pytest

# --- Tasks --------------------------------------------------------------------------------

from runtime import task


@task
def say_hello():
    print("Hello, world!")


# --- Task inputs and outputs ---------------------------------------------------------------


@task
def add(x, y=1):
    return x + y


@task
def say_hello(person: str) -> None:  # noqa: F811 - the guide redefines it
    print("Hello, {}!".format(person))


# --- Task classes ---------------------------------------------------------------------------

from runtime import Task  # noqa: E402


class AddTask(Task):
    def __init__(self, default: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.default = default

    def run(self, x: int, y: int = None) -> int:
        if y is None:
            y = self.default
        return x + y


# initialize the task instance
add = AddTask(default=1)  # noqa: F811 - the guide redefines it


# --- Flows ---------------------------------------------------------------------------------


def test_functional_api_and_running_the_flow() -> None:
    from runtime import Flow

    with Flow("My first flow!") as flow:
        first_result = add(1, y=2)
        second_result = add(x=first_result, y=100)

    state = flow.run()

    assert state.is_successful()

    first_task_state = state.result[first_result]
    assert first_task_state.is_successful()
    assert first_task_state.result == 3

    second_task_state = state.result[second_result]
    assert second_task_state.is_successful()
    assert second_task_state.result == 103


def test_building_a_flow_runs_nothing() -> None:
    from runtime import Flow

    calls: list[Any] = []
    spy = AddTask(default=1)
    spy.run = lambda x, y=None: calls.append(x)  # type: ignore[method-assign]
    with Flow("My first flow!") as flow:
        add(1, y=2)
        spy(1)
    assert calls == []
    assert len(flow.tasks) == 2


def test_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    from runtime import Flow
    from runtime import Parameter

    with Flow("Say hi!") as flow:
        name = Parameter("name")
        say_hello(name)

    flow.run(name="Marvin")

    # ... [logs]
    # "Hello, Marvin!"
    # ... [logs]
    assert "Hello, Marvin!" in capsys.readouterr().out


def test_imperative_api(capsys: pytest.CaptureFixture[str]) -> None:
    from runtime import Flow, Parameter

    flow = Flow("My imperative flow!")

    # define some new tasks
    name = Parameter("name")
    second_add = add.copy()

    # add our tasks to the flow
    flow.add_task(add)
    flow.add_task(second_add)
    flow.add_task(say_hello)

    # create non-data dependencies so that `say_hello` waits for `second_add` to finish.
    say_hello.set_upstream(second_add, flow=flow)

    # create data bindings
    add.bind(x=1, y=2, flow=flow)
    second_add.bind(x=add, y=100, flow=flow)
    say_hello.bind(person=name, flow=flow)

    # (not in the guide) run it: the order and the data edges hold.
    state = flow.run(name="Marvin")
    assert state.is_successful()
    assert state.result[add].result == 3
    assert state.result[second_add].result == 103
    assert "Hello, Marvin!" in capsys.readouterr().out
    assert flow.sorted_tasks().index(second_add) < flow.sorted_tasks().index(say_hello)


def test_upstream_tasks_in_the_functional_api() -> None:
    from runtime import Flow

    order: list[str] = []
    first = AddTask(default=1, name="first")
    first.run = lambda x, y=None: order.append("first")  # type: ignore[method-assign]
    second = AddTask(default=1, name="second")
    second.run = lambda x, y=None: order.append("second")  # type: ignore[method-assign]
    with Flow("state edges") as flow:
        a = first(1)
        second(2, upstream_tasks=[a])
    assert flow.run().is_successful()
    assert order == ["first", "second"]
