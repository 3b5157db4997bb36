"""Printing a run's logs for a person: each line with its task run's name, and each
traceback once, without the runtime's own frames (they are the same in every run and
hide the user's)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from pushflow_cli.console import console

LEVELS = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}

_FRAME = re.compile(r'^  File "(?P<path>[^"]+)", line \d+, in ')
_TRACEBACK = "Traceback (most recent call last):"
_TRIM = ": \n"


def _runtime_files() -> frozenset[str]:
    import runtime

    return frozenset(p.name for p in Path(runtime.__file__).parent.glob("*.py"))


class LogPrinter:
    """Prints log entries in order; knows the run's task-run names (asked on first need)."""

    def __init__(self, api: Any, flow_run_id: str) -> None:
        self.api = api
        self.flow_run_id = flow_run_id
        self.task_names: dict[str, str] = {}
        self.seen_tracebacks: set[tuple[str, ...]] = set()
        self.engine_files = _runtime_files()

    def print(self, entry: dict[str, Any]) -> None:
        stamp = datetime.fromisoformat(entry["timestamp"]).astimezone().strftime("%H:%M:%S.%f")[:-3]
        level = LEVELS.get(entry["level"], str(entry["level"]))
        who = self._task_name(entry.get("task_run_id"))
        prefix = f"{stamp} | {level:<7} | " + (f"{who} - " if who else "")
        console.print(prefix + self.clean(entry["message"]), markup=False, highlight=False, soft_wrap=True)

    def _task_name(self, task_run_id: str | None) -> str | None:
        if not task_run_id:
            return None
        if task_run_id not in self.task_names:
            try:
                for t in self.api.read_task_runs(self.flow_run_id):
                    self.task_names[t["id"]] = t["name"]
            except Exception:  # names are a nicety; the log line still prints
                pass
        return self.task_names.get(task_run_id, task_run_id[:8])

    def clean(self, message: str) -> str:
        """The message with its traceback cut to the user's frames; a traceback already
        printed (a task's failure raised again by its flow) becomes one line."""
        head, sep, trace = message.partition(_TRACEBACK)
        if not sep:
            return message
        lines = self._user_frames(trace.strip("\n").splitlines())
        exception = lines[-1] if lines else ""
        last_frame = tuple(lines[-3:-1]) if len(lines) >= 3 else ()
        key = (*last_frame, exception)
        if key in self.seen_tracebacks:
            return f"{head.rstrip(_TRIM)}: {exception} (traceback above)"
        self.seen_tracebacks.add(key)
        return "\n".join([head.rstrip(" \n"), _TRACEBACK, *lines])

    def _user_frames(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        skipping = False
        for line in lines:
            match = _FRAME.match(line)
            if match:
                path = Path(match["path"])
                skipping = path.parent.name == "runtime" and path.name in self.engine_files
            elif not line.startswith("    "):
                skipping = False  # the exception line, or a "During handling..." line
            if not skipping:
                out.append(line)
        return out
