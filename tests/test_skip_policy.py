"""The CI skip policy fails a run with an unlisted skip and passes one whose reason is listed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_pytest(tmp_path: Path, allowed: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\ndef test_passes():\n    pass\n\ndef test_skipped():\n    pytest.skip('needs the moon')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PUSHFLOW_CI_ALLOWED_SKIPS": allowed}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.skip_policy", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unlisted_skip_fails_the_run_and_says_why(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, allowed="psutil\nsome other reason")
    assert result.returncode == 1, result.stdout
    assert "skips not allowed in CI" in result.stdout and "needs the moon" in result.stdout


def test_a_listed_skip_reason_passes(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, allowed="needs the moon")
    assert result.returncode == 0, result.stdout
