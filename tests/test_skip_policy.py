"""The CI skip policy fails a run with an unlisted skip and passes one whose reason is listed,
in one process and on pytest-xdist's workers (scripts/test runs the suite with `-n`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_pytest(tmp_path: Path, allowed: str, workers: int) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\ndef test_passes():\n    pass\n\ndef test_skipped():\n    pytest.skip('needs the moon')\n"
    )
    outer = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}  # this run's own workers
    env = {**outer, "PYTHONPATH": str(ROOT), "PUSHFLOW_CI_ALLOWED_SKIPS": allowed}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.skip_policy", "-p", "no:cacheprovider", str(tmp_path)]
        + (["-n", str(workers)] if workers else []),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("workers", [0, 2])
def test_an_unlisted_skip_fails_the_run_and_says_why(tmp_path: Path, workers: int) -> None:
    result = run_pytest(tmp_path, allowed="psutil\nsome other reason", workers=workers)
    assert result.returncode == 1, result.stdout
    assert "skips not allowed in CI" in result.stdout and "needs the moon" in result.stdout


@pytest.mark.parametrize("workers", [0, 2])
def test_a_listed_skip_reason_passes(tmp_path: Path, workers: int) -> None:
    result = run_pytest(tmp_path, allowed="needs the moon", workers=workers)
    assert result.returncode == 0, result.stdout
