"""Workload 6: install footprint of what a container needs. pushflow: its base install
(no extras) into a fresh venv. Prefect: `pip install prefect` (with the issue's two
constraints), i.e. the peer's venv. Distributions and on-disk size of site-packages, both
net of what an empty venv already holds (pip, setuptools)."""

from __future__ import annotations

import json
import shutil
import subprocess
import venv
from pathlib import Path

from bench.context import Context
from bench.report import Measure, Row

REPO = Path(__file__).resolve().parent.parent
COPY_IGNORE = (
    ".git",
    "build",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".benchmarks",
    "results",
    ".venv",
    "node_modules",
)
HOW = (
    "fresh venv + `pip install <repo>` (base, no extras) for pushflow; the peer venv "
    "(`pip install prefect` + constraints) for Prefect; `pip list` count and site-packages "
    "bytes (incl. compiled .pyc) net of an empty venv"
)


def site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def size_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


def distributions(python: Path) -> set[str]:
    out = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {d["name"].lower() for d in json.loads(out.stdout)}


def run(ctx: Context) -> list[Row]:
    target = ctx.scratch / "footprint-venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    python = target / "bin" / "python"
    baseline_dists = distributions(python)
    baseline_size = size_mib(site_packages(python))
    # Build from a copy: setuptools writes build/ and *.egg-info into the source tree.
    source = ctx.scratch / "footprint-src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*COPY_IGNORE))
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(source)],
        check=True,
        capture_output=True,
        timeout=900,
    )

    def measure(py: Path) -> tuple[Measure, Measure]:
        dists = distributions(py) - baseline_dists
        size = size_mib(site_packages(py)) - baseline_size
        return (
            Measure.single(float(len(dists)), distributions=sorted(dists)),
            Measure.single(size),
        )

    count = Row("install: distributions (runtime alone)", "dists", "lower", HOW)
    size = Row("install: size (runtime alone)", "MiB", "lower", HOW)
    count.pushflow, size.pushflow = measure(python)
    if ctx.peer_python:
        count.prefect, size.prefect = measure(ctx.peer_python)
    return [count, size]
