"""Subflows of a reported run: each becomes a child run on the control plane, with its
own run token, its own reporter, and the states RUNNING then terminal.

Locally (no reporter) a subflow is just a nested flow run and none of this happens.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from runtime.context import FlowRunContext, TaskRunContext
from runtime.errors import APIError
from runtime.states import Running, State


class ChildRun:
    def __init__(self, client: Any, run: dict[str, Any], reporter: Any) -> None:
        self.client = client
        self.id: str = run["id"]
        self.name: str = run["name"]
        self.reporter = reporter

    def finish(self, state: State) -> None:
        try:
            self.reporter.close()
            self.client.set_flow_run_state(self.id, state)
        except APIError as exc:  # the parent carries on; say so where a human can see it
            print(f"pushflow: could not report subflow run {self.name!r}: {exc}", file=sys.stderr)
        finally:
            self.client.close()


def open_child_run(
    parent: FlowRunContext, flow: Any, parameters: dict[str, Any], task_run: TaskRunContext | None
) -> ChildRun:
    from runtime.reporting import Reporter

    parent_client = parent.reporter.client  # type: ignore[union-attr]
    created = parent_client.create_subflow_run(
        parent.flow_run_id,
        flow_name=flow.name,
        parameters=_jsonable(parameters),
        parent_task_run_id=task_run.task_run_id if task_run else None,
    )
    client = parent_client.for_token(created["token"])
    run = created["flow_run"]
    client.set_flow_run_state(run["id"], Running())
    return ChildRun(client, run, Reporter(client, run["id"]))


def _jsonable(parameters: dict[str, Any]) -> dict[str, Any]:
    # Parameters of a subflow may be any Python value; the record keeps a readable form.
    return json.loads(json.dumps(parameters, default=repr))
