"""Probe: empty flow and per-task overhead, in one fresh process of either system.

    python flows.py pushflow empty --repeats 20
    python flows.py prefect tasks --kind seq --mode server --sizes 100 1000 --repeats 3

Per-task cost is taken from the slope of whole-run wall time between the two sizes,
(T(N2) - T(N1)) / (N2 - N1), which cancels each run's fixed costs (creating the run,
Prefect's ~1 s heartbeat wait at exit, pushflow's final flush) but keeps everything a
task adds, including shipping its record to the server. The time spent inside the flow
body divided by N is reported next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("system", choices=["pushflow", "prefect"])
    parser.add_argument("workload", choices=["empty", "tasks"])
    parser.add_argument("--kind", choices=["seq", "map"], default="seq")
    parser.add_argument("--mode", choices=["local", "server"], default="local")
    parser.add_argument("--sizes", type=int, nargs=2, default=[100, 1000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--budget", type=float, default=None, help="seconds: stop repeating (after one sample) once spent"
    )
    args = parser.parse_args()
    runner = PushflowRunner(args.mode) if args.system == "pushflow" else PrefectRunner()
    budget = Budget(args.repeats, args.budget)
    if args.workload == "empty":
        out = measure_empty(runner, budget)
    else:
        out = measure_tasks(runner, args.kind, args.sizes, budget)
    print(json.dumps({**out, **budget.report()}))


class Budget:
    """Up to `repeats` samples, fewer when `seconds` run out (a loaded machine must still
    finish the benchmark); the output says when it capped."""

    def __init__(self, repeats: int, seconds: float | None) -> None:
        self.repeats = repeats
        self.seconds = seconds
        self.started = time.perf_counter()
        self.done = 0

    def more(self) -> bool:
        if self.done >= self.repeats:
            return False
        spent = time.perf_counter() - self.started
        if self.done and self.seconds is not None and spent > self.seconds:
            return False
        self.done += 1
        return True

    def report(self) -> dict[str, Any]:
        if self.done >= self.repeats:
            return {}
        return {"capped": f"time cap {self.seconds:g} s: {self.done} of {self.repeats} samples"}


def measure_empty(runner: Any, budget: Budget) -> dict[str, Any]:
    samples = []
    while budget.more():
        start = time.perf_counter()
        runner.run_empty()
        samples.append(time.perf_counter() - start)
    return {"samples": samples}


def measure_tasks(runner: Any, kind: str, sizes: list[int], budget: Budget) -> dict[str, Any]:
    small, large = sizes
    missing = runner.unsupported(kind)
    if missing:
        return {"unsupported": missing}
    runner.run_tasks(kind, small)  # warm-up: first-run imports and connections
    slopes, inside, walls = [], [], []
    while budget.more():
        wall_small, _ = timed(lambda: runner.run_tasks(kind, small))
        wall_large, body = timed(lambda: runner.run_tasks(kind, large))
        slopes.append((wall_large - wall_small) / (large - small))
        if body == body:  # not NaN
            inside.append(body / large)
        walls.append(wall_large)
    return {"slopes": slopes, "inside": inside, "walls": walls}


def timed(fn: Callable[[], float]) -> tuple[float, float]:
    start = time.perf_counter()
    body = fn()
    return time.perf_counter() - start, body


class PushflowRunner:
    """Locally: call the flow. With the server: run it the way `pushflow execute` does,
    for a run created over the API (scheduled far ahead, so no pool picks it up)."""

    def __init__(self, mode: str) -> None:
        import pushflow_work

        self.work = pushflow_work
        self.mode = mode
        if mode == "server":
            from runtime.client import PushflowClient

            self.client = PushflowClient()
            self.deployments: dict[str, str] = {}

    def run_empty(self) -> None:
        self.work.empty()

    def unsupported(self, kind: str) -> str | None:
        if kind == "map" and not hasattr(self.work.noop, "map"):
            return "pushflow's task has no .map() in this build"
        return None

    def run_tasks(self, kind: str, n: int) -> float:
        if self.mode == "local":
            return float(self.work.FLOWS[kind](n))
        return self._run_reported(kind, n)

    def _deploy(self, kind: str) -> str:
        from runtime.errors import APIError

        flow = self.work.FLOWS[kind]
        try:
            self.client.create_pool("bench", "process")
        except APIError as exc:
            if exc.status_code != 409:  # another probe made it on this server already
                raise
        body = {
            "name": "bench",
            "flow_name": flow.name,
            "pool": "bench",
            "entrypoint": f"{HERE / 'pushflow_work.py'}:{flow.fn.__name__}",
        }
        return str(self.client.upsert_deployment(body)["id"])

    def _run_reported(self, kind: str, n: int) -> float:
        from runtime.execute import execute
        from runtime.states import State, StateType

        if kind not in self.deployments:
            self.deployments[kind] = self._deploy(kind)
        run = self.client.create_flow_run(
            self.deployments[kind], parameters={"n": n}, scheduled_start_time="2999-01-01T00:00:00Z"
        )
        # Stand in for the dispatcher's claim, then do exactly what the container does.
        self.client.set_flow_run_state(run["id"], State(StateType.PENDING))
        if execute(self.client, run["id"]) != 0:
            raise RuntimeError(f"flow run {run['id']} did not complete")
        return float("nan")  # execute() does not hand back the body time; the slope is the figure


class PrefectRunner:
    """Prefect 3 reports to PREFECT_API_URL when set, else to its ephemeral local API."""

    def __init__(self) -> None:
        import prefect_work

        self.work = prefect_work

    def run_empty(self) -> None:
        self.work.empty()

    def unsupported(self, kind: str) -> str | None:
        return None

    def run_tasks(self, kind: str, n: int) -> float:
        return float(self.work.FLOWS[kind](n))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
