"""Workload: the control plane's passes on PostgreSQL, pushflow alone (Prefect has no push
dispatcher to set beside it: its workers poll, and its push pools run in Prefect Cloud).

- dispatch throughput: due runs claimed and handed to the pool per second, with a no-op
  adapter and 4 dispatcher processes (the control plane's own cost), and with an adapter
  whose submit takes 100 ms, like a cloud API, and 1 dispatcher (how far parallel,
  bounded submits carry); every run submitted exactly once (`bench/dispatch.py`);
- reconcile: provider calls one reconcile pass makes for 1,000 active ECS runs (counted
  at botocore against moto; `bench/reconcile_calls.py`).

Each measurement uses a fresh schema on PG_SERVER, dropped after.
"""

from __future__ import annotations

import os
import sys

from bench import dispatch
from bench.context import Context
from bench.report import Measure, Row
from bench.servers import PG_SERVER

HERE = os.path.dirname(os.path.abspath(__file__))


def run(ctx: Context) -> list[Row]:
    url = f"postgresql+psycopg://{PG_SERVER}/test"
    runs, repeats = (200, 1) if ctx.quick else (2000, 3)
    rows = []
    noop = Row(
        "dispatch, PostgreSQL, no-op adapter, 4 dispatchers",
        "runs/s",
        "higher",
        f"{runs} due runs claimed and submitted by 4 dispatcher processes (bench/dispatch.py --adapter noop)",
        target_abs=1000,
    )
    samples, duplicates = [], 0
    for _ in range(repeats):
        result = dispatch.measure(url, runs, 4, "noop")
        samples.append(result["per_second"])
        duplicates += result["duplicates"] + (runs - result["submitted"])
    noop.pushflow = Measure.of(samples, duplicates=duplicates)
    if duplicates:
        noop.note = f"{duplicates} runs submitted twice or not at all"
    rows.append(noop)

    slow_runs = 100 if ctx.quick else 500
    slow = Row(
        "dispatch, PostgreSQL, 100 ms submits, 1 dispatcher",
        "runs/s",
        "higher",
        f"{slow_runs} due runs, an adapter whose submit takes 100 ms (bench/dispatch.py --adapter slow)",
        target_abs=100,
    )
    result = dispatch.measure(url, slow_runs, 1, "slow")
    slow.pushflow = Measure.single(result["per_second"])
    rows.append(slow)

    active = 100 if ctx.quick else 1000
    reconcile = Row(
        f"reconcile, {active:,} active ECS runs: provider calls per pass",
        "calls",
        "lower",
        "one reconcile pass, AWS calls counted at botocore against moto (bench/reconcile_calls.py)",
        target_abs=11,  # at most 10
    )
    out = ctx.run_json(
        [sys.executable, os.path.join(HERE, "reconcile_calls.py"), "--runs", str(active)],
        env=ctx.pushflow_env(),
        timeout=900,
        what="the reconcile probe",
    )
    reconcile.pushflow = Measure.single(float(out["aws_calls"]), by_operation=out["by_operation"])
    rows.append(reconcile)
    return rows
