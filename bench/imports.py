"""Workload 1: cold imports, each in a fresh interpreter.

The figure is the time of the `import` statement itself, taken inside the new process
(interpreter start-up excluded, identical for both systems)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from bench.context import Context
from bench.report import Measure, Row

SNIPPET = "import time, json\nt = time.perf_counter()\nimport {module}\nprint(json.dumps(time.perf_counter() - t))\n"


def time_import(python: str | Path, module: str, repeats: int, env: dict[str, str]) -> Measure:
    samples = []
    with tempfile.TemporaryDirectory() as cwd:  # nothing on the path but the installs
        for _ in range(repeats):
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
        row.pushflow = time_import(ctx.python, ours, repeats, ctx.pushflow_env())
        if ctx.peer_python:
            row.prefect = time_import(ctx.peer_python, theirs, repeats, ctx.prefect_env())
        rows.append(row)
    return rows
