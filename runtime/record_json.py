"""The JSON body of a batch of task runs or log lines, written record by record.

The body is byte for byte what `json.dumps(records, ensure_ascii=False,
separators=(",", ":"), allow_nan=False)` writes (client._json_body): each string goes
through the json module's own C escaping, numbers through their repr, in the records'
own key order. The json module's encoder walks each dict generically (its items, a call
per key and value): for the two record shapes the runtime builds (task_engine's
_task_run_record, loggers.RunLogHandler) that was ~30k instructions a task run and ~20k
a log line, most of what reporting to a server adds to a task in the flow's process
(callgrind). A record of any other shape or type is written by `json.dumps`, as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_string: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]
_TASK_RUN_KEYS = ("id", "name", "task_key", "dynamic_key", "tags", "state", "start_time", "end_time", "run_count")
_STATE_KEYS = ("type", "name", "message", "timestamp")
_LOG_KEYS = ("level", "name", "message", "timestamp", "task_run_id")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _text(value: str | None) -> str:
    return "null" if value is None else _string(value)


def task_run_json(record: dict[str, Any]) -> str:
    """One task run as JSON text."""
    state = record.get("state")
    tags = record.get("tags")
    count = record.get("run_count")
    if (
        tuple(record) != _TASK_RUN_KEYS
        or type(state) is not dict
        or tuple(state) != _STATE_KEYS
        or type(tags) is not list
        or type(count) is not int
    ):
        return _dumps(record)
    try:
        return (
            f'{{"id":{_string(record["id"])},"name":{_string(record["name"])},'
            f'"task_key":{_string(record["task_key"])},"dynamic_key":{_string(record["dynamic_key"])},'
            f'"tags":[{",".join(map(_string, tags))}],'
            f'"state":{{"type":{_string(state["type"])},"name":{_string(state["name"])},'
            f'"message":{_text(state["message"])},"timestamp":{_text(state["timestamp"])}}},'
            f'"start_time":{_text(record["start_time"])},"end_time":{_text(record["end_time"])},'
            f'"run_count":{count!r}}}'
        )
    except TypeError:  # a value that is not a string: json.dumps says what it makes of it
        return _dumps(record)


def log_json(record: dict[str, Any]) -> str:
    """One log line as JSON text."""
    level = record.get("level")
    stamp = record.get("timestamp")
    # A finite float only (x - x is NaN for NaN and infinities, which json.dumps refuses).
    if tuple(record) != _LOG_KEYS or type(level) is not int or type(stamp) is not float or stamp - stamp != 0.0:
        return _dumps(record)
    try:
        return (
            f'{{"level":{level!r},"name":{_string(record["name"])},"message":{_string(record["message"])},'
            f'"timestamp":{stamp!r},"task_run_id":{_text(record["task_run_id"])}}}'
        )
    except TypeError:
        return _dumps(record)


def batch_body(records: list[dict[str, Any]], one: Callable[[dict[str, Any]], str]) -> bytes:
    """The JSON array of `records`, each written by `one`, as UTF-8."""
    return ("[" + ",".join(map(one, records)) + "]").encode()
