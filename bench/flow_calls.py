"""Workloads 2 and 3: an empty flow called locally, and per-task overhead (1,000
sequential and 1,000 mapped trivial tasks), locally and reporting to the local server."""

from __future__ import annotations

import sys
from typing import Any

from bench.context import Context
from bench.report import Measure, Row
from bench.servers import PrefectServer

# Seconds each probe may spend repeating its samples (it always takes one): Prefect's
# per-task workload alone took 12 minutes on a busy 2-core machine. Rows say when it capped.
PROBE_BUDGET_SECONDS = 60

EMPTY_HOW = (
    "wall time of `empty()` in one warm process, median over repeated calls. pushflow: no "
    "server (its local call never needs one). Prefect: no PREFECT_API_URL, i.e. its default "
    "local (ephemeral) API; its first call, which starts that API, is one of the samples"
)
TASKS_HOW = (
    "median over {repeats} runs of N={large} after a warm-up. pushflow: slope of whole-run "
    "wall time, (T(N2)-T(N1))/(N2-N1) with N1={small}, which cancels fixed per-run costs but "
    "keeps shipping every task record to the server (flushed before COMPLETED). Prefect: time "
    "inside the flow body / N, because its fixed per-run cost (heartbeat wait and event flush at "
    "exit) is large and erratic enough to make its slope meaningless (raw slopes in the JSON). "
    "Both log at INFO, their default: each prints every task's finish line and, with the "
    "server, ships it there. "
    "{mode_how}"
)
MODE_HOW = {
    "local": "pushflow: the flow called in-process, no server. Prefect: no PREFECT_API_URL (ephemeral local API).",
    "server": "pushflow: a run created over the API and executed in-process by "
    "runtime.execute.execute() - the container's own path - with task runs batched "
    "to the server and flushed before COMPLETED. Prefect: flow called with "
    "PREFECT_API_URL set to its local server.",
}


def run_empty(ctx: Context) -> list[Row]:
    row = Row("empty flow, called locally", "ms", "lower", EMPTY_HOW, target_ratio=100)
    ours = ctx.probe(
        "pushflow",
        "flows.py",
        "pushflow",
        "empty",
        "--repeats",
        "5" if ctx.quick else "50",
        "--budget",
        str(PROBE_BUDGET_SECONDS),
        env=ctx.pushflow_env(),
    )
    _note_cap(row, "pushflow", ours)
    row.pushflow = Measure.of([s * 1000 for s in ours["samples"]])
    if ctx.peer_python:
        theirs = ctx.probe(
            "prefect",
            "flows.py",
            "prefect",
            "empty",
            "--repeats",
            "2" if ctx.quick else "10",
            "--budget",
            str(PROBE_BUDGET_SECONDS),
            env=ctx.prefect_env(),
        )
        _note_cap(row, "prefect", theirs)
        row.prefect = Measure.of([s * 1000 for s in theirs["samples"]])
    return [row]


def run_tasks(ctx: Context) -> list[Row]:
    sizes = ("10", "50") if ctx.quick else ("100", "1000")
    repeats = "1" if ctx.quick else "3"
    rows = {
        (mode, kind): Row(
            f"per-task overhead, {'1,000 ' if not ctx.quick else ''}{label}, {where}",
            "µs",
            "lower",
            TASKS_HOW.format(small=sizes[0], large=sizes[1], repeats=repeats, mode_how=MODE_HOW[mode]),
            target_ratio=50,  # issue 21: >=50x with the server reporting too
        )
        for mode, where in (("local", "local"), ("server", "with server"))
        for kind, label in (("seq", "sequential"), ("map", "mapped"))
    }
    args = ("--sizes", *sizes, "--repeats", repeats, "--budget", str(PROBE_BUDGET_SECONDS))

    def measure(system: str, env: dict[str, str], mode: str) -> None:
        for kind in ("seq", "map"):
            row = rows[(mode, kind)]
            try:
                out = ctx.probe(
                    system,
                    "flows.py",
                    system,
                    "tasks",
                    "--kind",
                    kind,
                    "--mode",
                    mode,
                    *args,
                    env=env,
                )
            except Exception as exc:  # keep the other measurements
                ctx.failed(row, system, exc)
                continue
            _note_cap(row, system, out)
            setattr(row, system, _per_task(system, out, row))

    measure("pushflow", ctx.pushflow_env(), "local")
    with ctx.pushflow_server() as server:
        measure("pushflow", ctx.pushflow_env(**server.client_env()), "server")
    if ctx.peer_python:
        # The harness quiets Prefect to WARNING elsewhere; here both systems log at their
        # default INFO, so neither skips the per-task line the other prints and ships.
        measure("prefect", ctx.prefect_env(PREFECT_LOGGING_LEVEL="INFO"), "local")
        with PrefectServer(ctx.peer_python) as server:
            measure("prefect", ctx.prefect_env(**{**server.client_env(), "PREFECT_LOGGING_LEVEL": "INFO"}), "server")
    return list(rows.values())


def _note_cap(row: Row, system: str, out: dict[str, Any]) -> None:
    if "capped" in out:
        row.note = f"{row.note} {system}: {out['capped']}".strip()
        print(f"[bench] {row.workload} / {system}: {out['capped']}", file=sys.stderr, flush=True)


def _per_task(system: str, out: dict[str, Any], row: Row) -> Measure | None:
    if "unsupported" in out:
        row.note = (row.note + " " + out["unsupported"]).strip()
        return None
    slopes = [s * 1e6 for s in out["slopes"]]
    inside = [x * 1e6 for x in out.get("inside") or []]
    extra: dict[str, Any] = {"whole_run_seconds_at_N2": out["walls"], "slope_us_per_task": slopes}
    if inside:
        extra["inside_flow_us_per_task"] = inside
    if system == "prefect" and inside:
        return Measure.of(inside, **extra)
    return Measure.of(slopes, **extra)
