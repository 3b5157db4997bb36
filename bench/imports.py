"""Workload 1: cold imports, each in a fresh interpreter.

The figure is the time of the `import` statement itself, taken inside the new process
(interpreter start-up excluded, identical for both systems). On a loaded machine a
measurement stops repeating once BUDGET_SECONDS are spent (with at least MIN_SAMPLES),
and the row says so; a statement timed for two rows (Prefect's server) is timed once.

An import that defers its work to a factory would look free here, so the server app has
a second row: the import and the factory building the app (both systems' `create_app()`,
routes, models and OpenAPI machinery included; no database is touched until it serves)."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from bench.context import Context
from bench.report import Measure, Row

SNIPPET = "import time, json\nt = time.perf_counter()\n{statement}\nprint(json.dumps(time.perf_counter() - t))\n"
BUDGET_SECONDS = 60.0
MIN_SAMPLES = 3


def time_import(python: str | Path, statement: str, repeats: int, env: dict[str, str]) -> Measure:
    """Median time of `statement` (an import, or an import and a call) in fresh processes."""
    samples: list[float] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as cwd:  # nothing on the path but the installs
        for _ in range(repeats):
            if len(samples) >= MIN_SAMPLES and time.monotonic() - started > BUDGET_SECONDS:
                break
            done = subprocess.run(
                [str(python), "-c", SNIPPET.format(statement=statement)],
                capture_output=True,
                text=True,
                cwd=cwd,
                env=env,
                timeout=120,
            )
            if done.returncode != 0:
                raise RuntimeError(f"{statement!r} failed:\n{done.stderr[-2000:]}")
            samples.append(json.loads(done.stdout.strip().splitlines()[-1]) * 1000)
    return Measure.of(samples)


PAIRS = [
    # What a flow file writes (README): both packages load some names on first use, so a
    # bare `import pushflow` would time less than a user's first line pays.
    (
        "import SDK (from pushflow / prefect import flow, task)",
        "from pushflow import flow, task",
        "from prefect import flow, task",
    ),
    (
        "import server app (control_plane.app vs prefect.server.api.server)",
        "import control_plane.app",
        "import prefect.server.api.server",
    ),
    (
        "import server app + create_app() (control_plane.app vs prefect.server.api.server)",
        "from control_plane.app import create_app; create_app()",
        "from prefect.server.api.server import create_app; create_app()",
    ),
    (
        "import Lambda handler (control_plane.aws_lambda vs prefect.server.api.server)",
        "import control_plane.aws_lambda",
        "import prefect.server.api.server",
    ),
]


def run(ctx: Context) -> list[Row]:
    repeats = 2 if ctx.quick else 7
    measured: dict[tuple[str, str], Measure] = {}

    def measure(python: str | Path, statement: str, env: dict[str, str]) -> Measure:
        key = (str(python), statement)
        if key not in measured:
            measured[key] = time_import(python, statement, repeats, env)
        return measured[key]

    rows = []
    for label, ours, theirs in PAIRS:
        row = Row(
            label,
            "ms",
            "lower",
            f"median of fresh `python -c '{ours}'` / `python -c '{theirs}'` processes; "
            "time of the statement measured inside the process",
            target_ratio=10,
        )
        row.pushflow = measure(ctx.python, ours, ctx.pushflow_env())
        if ctx.peer_python:
            row.prefect = measure(ctx.peer_python, theirs, ctx.prefect_env())
        capped = [f"{m.n} of {repeats}" for m in (row.pushflow, row.prefect) if m is not None and m.n < repeats]
        if capped:
            row.note = f"capped at {BUDGET_SECONDS:.0f} s per measurement: {', '.join(capped)} samples"
        rows.append(row)
    return rows
