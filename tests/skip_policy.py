"""CI's skip policy, a pytest plugin (`pytest -p tests.skip_policy`, as .ci/run does): a
skipped or xfailed test fails the run unless its reason matches one of the regular
expressions in PUSHFLOW_CI_ALLOWED_SKIPS (one a line), which .ci/run lists. A skip is
never counted as a pass."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

_unlisted: list[tuple[str, str]] = []


def _allowed() -> list[re.Pattern[str]]:
    lines = os.environ.get("PUSHFLOW_CI_ALLOWED_SKIPS", "").splitlines()
    return [re.compile(line.strip()) for line in lines if line.strip()]


def _reason(report: Any) -> str:
    if getattr(report, "wasxfail", None) is not None:
        return f"xfail: {report.wasxfail}"
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)


def _check(report: Any) -> None:
    if report.skipped:
        reason = _reason(report)
        if not any(p.search(reason) for p in _allowed()):
            _unlisted.append((report.nodeid, reason))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _check(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _check(report)  # a module skipped as a whole (importorskip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _unlisted:
        terminalreporter.section("skips not allowed in CI", red=True)
        for nodeid, reason in _unlisted:
            terminalreporter.line(f"{nodeid}: {reason}")
        terminalreporter.line("fix the cause, or list the reason in .ci/run's PUSHFLOW_CI_ALLOWED_SKIPS")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unlisted and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
