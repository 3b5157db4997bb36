"""Prefect Core's deferred API: `Flow` and `Edge` (`Parameter` lives beside `Task`).

`with Flow("name") as f:` records a graph; calling a task inside it adds a copy of the
task as a node and its task arguments as data edges. Nothing runs until `f.run()` (or a
deployment runs `f`), when `runtime.graph_run` walks the graph through the same engine
as `@flow`: every node is a task run with retries, timeouts, caching and reporting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from runtime.engine import run_flow
from runtime.graph_context import building_flow_var
from runtime.graph_run import run_graph
from runtime.tasks import Parameter, Task


@dataclasses.dataclass(frozen=True)
class Edge:
    """`upstream` must finish before `downstream`; with a `key`, its result is passed as
    that keyword argument."""

    upstream: Task
    downstream: Task
    key: str | None = None


class Flow:
    def __init__(
        self,
        name: str,
        tasks: Iterable[Task] = (),
        edges: Iterable[Edge] = (),
        *,
        description: str | None = None,
        reference_tasks: Iterable[Task] = (),
        retries: int = 0,
        retry_delay_seconds: Any = 0,
        timeout_seconds: float | None = None,
        log_prints: bool = False,
        on_completion: Iterable[Any] = (),
        on_failure: Iterable[Any] = (),
        result_storage: Any = None,
        schedule: Any = None,
    ) -> None:
        self.name = name
        self.schedule = schedule
        self.description = description
        self.tasks: dict[Task, None] = {}  # insertion-ordered set
        self.edges: dict[Edge, None] = {}
        self.constants: dict[Task, dict[str, Any]] = {}
        self._reference_tasks = list(reference_tasks)
        self.retries = retries
        self.retry_delay_seconds = retry_delay_seconds
        self.timeout_seconds = timeout_seconds
        self.log_prints = log_prints
        self.on_completion = list(on_completion)
        self.on_failure = list(on_failure)
        self.result_storage = result_storage
        self.task_runner = None
        for task in tasks:
            self.add_task(task)
        for edge in edges:
            self.add_edge(edge.upstream, edge.downstream, key=edge.key)
        self._tokens: list[Any] = []

    # Building ---------------------------------------------------------------------------

    def __enter__(self) -> Flow:
        self._tokens.append(building_flow_var.set(self))
        return self

    def __exit__(self, *exc: object) -> None:
        building_flow_var.reset(self._tokens.pop())

    def add_task(self, task: Task) -> Task:
        if not isinstance(task, Task):
            raise TypeError(f"Flow.add_task() takes a Task, got {type(task).__name__}")
        if isinstance(task, Parameter):
            for existing in self.tasks:
                if isinstance(existing, Parameter) and existing.name == task.name and existing is not task:
                    raise ValueError(f"flow {self.name!r} already has a parameter named {task.name!r}")
        self.tasks.setdefault(task, None)
        return task

    def add_edge(self, upstream: Task, downstream: Task, key: str | None = None) -> Edge:
        if key is not None:
            taken = [
                e for e in self.edges if e.downstream is downstream and e.key == key and e.upstream is not upstream
            ]
            if taken:
                raise ValueError(f"{downstream.name!r} already takes {key!r} from {taken[0].upstream.name!r}")
        self.add_task(upstream)
        self.add_task(downstream)
        edge = Edge(upstream, downstream, key)
        self.edges.setdefault(edge, None)
        if self._creates_cycle(downstream):
            del self.edges[edge]
            raise ValueError(f"the edge {upstream.name!r} -> {downstream.name!r} would create a cycle")
        return edge

    def set_dependencies(
        self,
        task: Task,
        upstream_tasks: Iterable[Task] | None = None,
        downstream_tasks: Iterable[Task] | None = None,
        keyword_tasks: dict[str, Any] | None = None,
    ) -> None:
        self.add_task(task)
        for upstream in upstream_tasks or ():
            self.add_edge(upstream, task)
        for downstream in downstream_tasks or ():
            self.add_edge(task, downstream)
        for key, value in (keyword_tasks or {}).items():
            if isinstance(value, Task):
                self.add_edge(value, task, key=key)
            else:
                self.constants.setdefault(task, {})[key] = value

    def call_task(self, task: Task, args: tuple, kwargs: dict[str, Any]) -> Task:
        """What calling a task inside `with Flow(...)` does: add a copy, bound to the
        arguments. Parameters are added as they are (one per name)."""
        upstream_tasks = kwargs.pop("upstream_tasks", None)
        kwargs.pop("return_state", None)
        node = task if isinstance(task, Parameter) else task.copy()
        node.bind(*args, upstream_tasks=upstream_tasks, flow=self, **kwargs)
        return node

    # Reading ----------------------------------------------------------------------------

    def upstream_edges(self, task: Task) -> list[Edge]:
        return [e for e in self.edges if e.downstream is task]

    def terminal_tasks(self) -> list[Task]:
        has_downstream = {e.upstream for e in self.edges}
        return [t for t in self.tasks if t not in has_downstream]

    def reference_tasks(self) -> list[Task]:
        """The tasks whose states decide the flow's: the terminal ones unless set."""
        return self._reference_tasks or self.terminal_tasks()

    def set_reference_tasks(self, tasks: Iterable[Task]) -> None:
        self._reference_tasks = list(tasks)

    def parameters(self) -> list[Parameter]:
        return [t for t in self.tasks if isinstance(t, Parameter)]

    def get_tasks(self, name: str | None = None) -> list[Task]:
        return [t for t in self.tasks if name is None or t.name == name]

    def sorted_tasks(self) -> list[Task]:
        """Tasks in an order where every upstream comes first (insertion order otherwise)."""
        order: list[Task] = []
        seen: set[Task] = set()
        upstreams: dict[Task, list[Task]] = {t: [] for t in self.tasks}
        for edge in self.edges:
            upstreams[edge.downstream].append(edge.upstream)

        def visit(task: Task) -> None:
            if task in seen:
                return
            seen.add(task)
            for upstream in upstreams[task]:
                visit(upstream)
            order.append(task)

        for task in self.tasks:
            visit(task)
        return order

    def _creates_cycle(self, start: Task) -> bool:
        downstream: dict[Task, list[Task]] = {}
        for edge in self.edges:
            downstream.setdefault(edge.upstream, []).append(edge.downstream)
        stack, seen = list(downstream.get(start, [])), set()
        while stack:
            task = stack.pop()
            if task is start:
                return True
            if task not in seen:
                seen.add(task)
                stack.extend(downstream.get(task, []))
        return False

    # Running ----------------------------------------------------------------------------

    def run(self, parameters: dict[str, Any] | None = None, run_on_schedule: bool | None = None, **kwargs: Any) -> Any:
        """Run the graph now, in this process; returns the flow's state, whose
        `.result[task]` is each task's state. A flow with a schedule sleeps until each
        scheduled time and runs then (until the schedule's end_date, if it has one); it
        returns the last run's state."""
        values = self.validate_parameters({**(parameters or {}), **kwargs})
        if self.schedule is None or run_on_schedule is False:
            return run_flow(self, values)
        from runtime.graph_schedule import run_on_schedule as scheduled

        return scheduled(self, values)

    def fn(self, **parameters: Any) -> Any:
        """The flow body the engine calls: runs the graph, returns the flow's state."""
        return run_graph(self, parameters)

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        from runtime.errors import ParameterError

        known = {p.name: p for p in self.parameters()}
        unknown = sorted(set(parameters) - set(known))
        missing = sorted(n for n, p in known.items() if p.required and n not in parameters)
        problems = [f"parameter '{n}' is required" for n in missing]
        if unknown:  # worded as the control plane words a 422
            problems.append(f"parameter(s) {', '.join(repr(n) for n in unknown)} not accepted by the flow")
        if problems:
            raise ParameterError("invalid parameters: " + "; ".join(problems))
        return {n: parameters.get(n, p.default) for n, p in known.items()}

    def parameter_schema(self) -> dict[str, Any]:
        import json

        properties: dict[str, Any] = {}
        for p in self.parameters():
            try:
                json.dumps(p.default)
                properties[p.name] = {} if p.required else {"default": p.default}
            except TypeError:
                properties[p.name] = {}
        required = [p.name for p in self.parameters() if p.required]
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }

    # Registering ------------------------------------------------------------------------

    def to_deployment(self, name: str, **options: Any) -> Any:
        from runtime.deploying import RunnerDeployment

        return RunnerDeployment.from_flow(self, name, **options)

    def deploy(self, name: str, pool: str | None = None, **options: Any) -> str:
        """Register this graph with the control plane as deployment `name` on `pool`, with
        its schedule; returns the deployment's id. Then press Run: no agent needed."""
        return self.to_deployment(name, pool=pool, **options).apply()

    def register(self, project_name: str | None = None, *, name: str | None = None, **options: Any) -> str:
        """Prefect Core's spelling of `deploy`: the deployment is named `name`, else
        `project_name`, else "default"."""
        return self.deploy(name or project_name or "default", **options)

    def copy(self) -> Flow:
        new = Flow(self.name, self.tasks, self.edges, description=self.description, schedule=self.schedule)
        new.constants = {t: dict(c) for t, c in self.constants.items()}
        return new

    def __repr__(self) -> str:
        return f"<Flow: {self.name} ({len(self.tasks)} tasks)>"
