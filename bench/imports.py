"""Workload 1: cold imports, each in a fresh interpreter.

The figure is the time of the `import` statement itself, taken inside the new process
(interpreter start-up excluded, identical for both systems). On a loaded machine a
measurement stops repeating once BUDGET_SECONDS are spent (with at least MIN_SAMPLES),
and the row says so; a module imported for two rows (Prefect's server) is timed once."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from bench.context import Context
from bench.report import Measure, Row

SNIPPET = "import time, json\nt = time.perf_counter()\nimport {module}\nprint(json.dumps(time.perf_counter() - t))\n"
BUDGET_SECONDS = 60.0
MIN_SAMPLES = 3


def time_import(python: str | Path, module: str, repeats: int, env: dict[str, str]) -> Measure:
    samples: list[float] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as cwd:  # nothing on the path but the installs
        for _ in range(repeats):
            if len(samples) >= MIN_SAMPLES and time.monotonic() - started > BUDGET_SECONDS:
                break
            done = subprocess.run(
                [str(python), "-c", SNIPPET.format(module=module)],
                capture_output=True,
                text=True,
                cwd=cwd,
                env=env,
                timeout=120,
            )
            if done.returncode != 0:
                raise RuntimeError(f"import {module} failed:\n{done.stderr[-2000:]}")
            samples.append(json.loads(done.stdout.strip().splitlines()[-1]) * 1000)
    return Measure.of(samples)


PAIRS = [
    ("import SDK (runtime vs prefect)", "runtime", "prefect"),
    (
        "import server app (control_plane.app vs prefect.server.api.server)",
        "control_plane.app",
        "prefect.server.api.server",
    ),
    (
        "import Lambda handler (control_plane.aws_lambda vs prefect.server.api.server)",
        "control_plane.aws_lambda",
        "prefect.server.api.server",
    ),
]


def run(ctx: Context) -> list[Row]:
    repeats = 2 if ctx.quick else 7
    measured: dict[tuple[str, str], Measure] = {}

    def measure(python: str | Path, module: str, env: dict[str, str]) -> Measure:
        key = (str(python), module)
        if key not in measured:
            measured[key] = time_import(python, module, repeats, env)
        return measured[key]

    rows = []
    for label, ours, theirs in PAIRS:
        row = Row(
            label,
            "ms",
            "lower",
            "median of fresh `python -c 'import X'` processes; "
            "time of the import statement measured inside the process",
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
