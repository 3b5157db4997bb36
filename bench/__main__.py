"""`python -m bench`: pushflow and Prefect 3 measured side by side, in one run, with ratios.

python -m bench --install-peer          # first time: Prefect 3 into ~/.cache/pushflow-bench
python -m bench                         # everything; table on stdout, JSON in bench/results
python -m bench --quick --skip-peer --only imports --in-place

Both systems run installed in a venv of their own under ~/.cache/pushflow-bench: each run
first installs this checkout there (bench/installed.py); --in-place measures the pushflow
that this interpreter imports instead.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import api_load, dispatching, flow_calls, footprint, imports, installed, lateness, peer, servers, trigger
from bench.context import Context
from bench.report import Row, markdown, table, write_json

WORKLOADS: dict[str, Callable[[Context], list[Row]]] = {
    "imports": imports.run,
    "empty-flow": flow_calls.run_empty,
    "tasks": flow_calls.run_tasks,
    "api": api_load.run,
    "trigger": trigger.run,
    "lateness": lateness.run,
    "dispatch": dispatching.run,
    "footprint": footprint.run,
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--install-peer",
        action="store_true",
        help=f"install Prefect 3 into {peer.venv_dir()}, then stop (measure with a second command)",
    )
    parser.add_argument("--skip-peer", action="store_true", help="measure pushflow alone")
    parser.add_argument("--quick", action="store_true", help="tiny iteration counts (smoke test)")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help=f"measure the pushflow this interpreter imports, not this checkout installed into {installed.venv_dir()}",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(WORKLOADS),
        metavar="WORKLOAD",
        help=f"run only this workload (repeatable): {', '.join(WORKLOADS)}",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    servers.install_cleanup()
    peer_versions: dict[str, str] | None = None
    if not args.skip_peer:
        if args.install_peer:  # the documented first step, on its own: it does not also start a 20-minute run
            peer.install()
            print(f"[bench] Prefect is in {peer.venv_dir()}; now: python -m bench --markdown", file=sys.stderr)
            return 0
        peer.require()
        peer_versions = peer.versions()
    if args.in_place:
        python, how_installed = sys.executable, f"in place: {sys.executable}, {_compile_pushflow()}"
    else:
        print(f"[bench] installing this checkout into {installed.venv_dir()} ...", file=sys.stderr, flush=True)
        python, how_installed = str(installed.install()), f"regular install in {installed.venv_dir()}"
    scratch = Path(tempfile.mkdtemp(prefix="pushflow-bench-"))
    ctx = Context(
        quick=args.quick,
        scratch=scratch,
        peer_python=None if args.skip_peer else peer.python(),
        python=python,
        in_place=args.in_place,
    )
    rows: list[Row] = []
    failures: dict[str, str] = {}
    started = time.time()
    try:
        for name in args.only or list(WORKLOADS):
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                rows.extend(WORKLOADS[name](ctx))
            except Exception as exc:  # one broken workload must not hide the others
                failures[name] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
            print(f"[bench] {name} done in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    finally:
        servers.stop_all()
        shutil.rmtree(scratch, ignore_errors=True)
    meta = {
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 1),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_avg_at_end": os.getloadavg(),
        },
        "pushflow_version": _pushflow_version(),
        "peer": peer_versions,
        "quick": args.quick,
        "pushflow_install": how_installed,
        "failures": {**failures, **{f"measurement {i}": f for i, f in enumerate(ctx.failures)}},
    }
    write_json(args.out, rows, meta)
    print(table(rows))
    if args.markdown:
        print("\n" + markdown(rows))
    for name, why in [*failures.items(), *(("measurement", f) for f in ctx.failures)]:
        print(f"FAILED {name}: {why}", file=sys.stderr)
    print(f"\nJSON: {args.out}", file=sys.stderr)
    return 1 if failures or ctx.failures else 0


PUSHFLOW_PACKAGES = ("pushflow", "runtime", "push_pools", "control_plane", "pushflow_cli")


def _compile_pushflow() -> str:
    """In place: compile pushflow's modules to bytecode before measuring, as pip does when it
    installs a package (the peer's venv has its bytecode from its install). An editable
    checkout may have none: with PYTHONDONTWRITEBYTECODE set (some CI images and sandboxes
    set it) Python never writes it, and every pushflow process of the run, servers and
    flow runs included, would compile its imports from source (~50% more import time,
    measured), which says nothing about pushflow installed."""
    import compileall
    import importlib.util

    folders = []
    for name in PUSHFLOW_PACKAGES:
        spec = importlib.util.find_spec(name)
        folders += list(spec.submodule_search_locations or []) if spec else []
    ok = all(compileall.compile_dir(folder, quiet=1, workers=0) for folder in folders)
    return f"compiled before the run ({len(folders)} packages)" if ok else "compile failed for some modules"


def _pushflow_version() -> str:
    from importlib.metadata import version

    return version("pushflow")


if __name__ == "__main__":
    sys.exit(main())
