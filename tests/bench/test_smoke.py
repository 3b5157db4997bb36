"""The benchmark harness runs end to end on pushflow's side (one tiny iteration, no peer).

The benchmark itself is not part of the test suite: `python -m bench` runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quick_run_writes_the_table_as_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--skip-peer",
            "--in-place",
            "--only",
            "imports",
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "import SDK" in done.stdout  # the table went to stdout

    report = json.loads(out.read_text())
    assert report["meta"]["quick"] is True
    assert report["meta"]["peer"] is None
    assert report["meta"]["failures"] == {}
    rows = {row["workload"]: row for row in report["rows"]}
    sdk = rows["import SDK (from pushflow / prefect import flow, task)"]
    assert sdk["prefect"] is None and sdk["ratio"] is None
    assert sdk["pushflow"]["n"] == 2
    assert 0 < sdk["pushflow"]["min"] <= sdk["pushflow"]["median"] <= sdk["pushflow"]["max"]
    assert sdk["target"] == ">=10x" and sdk["unit"] == "ms"


def test_quick_dispatch_workload_submits_every_run_once_and_counts_reconcile_calls(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "bench", "--quick", "--skip-peer", "--in-place", "--only", "dispatch"]
    command += ["--out", str(out)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = {row["workload"]: row for row in json.loads(out.read_text())["rows"]}
    noop = rows["dispatch, PostgreSQL, no-op adapter, 4 dispatchers"]
    assert noop["pushflow"]["extra"] == {"duplicates": 0} and noop["note"] == ""
    assert rows["dispatch, PostgreSQL, 100 ms submits, 1 dispatcher"]["pushflow"]["median"] > 0
    reconcile = rows["reconcile, 100 active ECS runs: provider calls per pass"]
    assert reconcile["pushflow"]["median"] == sum(reconcile["pushflow"]["extra"]["by_operation"].values()) >= 1
