"""A batch's body is written record by record (runtime/record_json.py), byte for byte
what json.dumps wrote, for the records the runtime builds and for any other; and a
state's time text is exactly `isoformat()`."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from runtime import record_json
from runtime.client import _json_body
from runtime.record_json import batch_body, log_json, task_run_json
from runtime.states import State, StateType, iso_text

NOW = datetime(2026, 12, 1, 15, 0, 0, 123456, tzinfo=timezone.utc)


def task_run(**change: Any) -> dict[str, Any]:
    """As runtime/task_engine.py's _task_run_record builds it."""
    wire = State(StateType.COMPLETED, timestamp=NOW).to_wire()
    record = {
        "id": "0b9d4c3e-5a8f-4f1e-9d2a-1c7b6e5f4a3b",
        "name": "add-0",
        "task_key": "flows.add",
        "dynamic_key": "0",
        "tags": ["a", "b"],
        "state": wire,
        "start_time": iso_text(NOW - timedelta(microseconds=50)),
        "end_time": wire["timestamp"],
        "run_count": 1,
    }
    return {**record, **change}


def log(**change: Any) -> dict[str, Any]:
    """As runtime/loggers.py's RunLogHandler builds it."""
    record = {"level": 20, "name": "pushflow.runs", "message": "Finished", "timestamp": 1764601200.123456}
    record["task_run_id"] = None
    return {**record, **change}


ODD = 'quote " backslash \\ newline \n tab \t nul \x00 bell \x07 é 日本 \u2028 😀 </script>'
TASK_RUNS = [
    task_run(),
    task_run(name=ODD, task_key=ODD, dynamic_key=ODD, tags=[ODD, ""], id=ODD),
    task_run(state={**State(StateType.FAILED, message=ODD, timestamp=NOW).to_wire()}, end_time=None),
    task_run(tags=[], run_count=2**40),
    task_run(run_count=True),  # json.dumps writes true
    task_run(run_count=3.0),
    task_run(tags=("a",)),
    task_run(tags=[1, None]),
    task_run(state={"type": "COMPLETED", "name": "Completed", "timestamp": "x"}),  # no message
    task_run(state={"name": "Completed", "type": "COMPLETED", "message": None, "timestamp": "x"}),  # another order
    task_run(state={"type": "COMPLETED", "name": None, "message": None, "timestamp": None}),
    task_run(start_time=None, end_time=5),
    task_run(extra={"x": [1.5, None]}),
    {k: v for k, v in task_run().items() if k != "tags"},
    {"id": "t-1", "name": "x", "task_key": "k", "state": {"type": "RUNNING"}},
]
LOGS = [
    log(),
    log(task_run_id="0b9d4c3e", message=ODD, name=ODD),
    log(timestamp=1e16),
    log(timestamp=1e-7),
    log(timestamp=0.1 + 0.2),
    log(timestamp=1764601200),
    log(level=True),
    log(level=20.0),
    log(message=None),
    log(task_run_id=7),
    {"message": "é"},
    {k: v for k, v in log().items() if k != "task_run_id"},
]


@pytest.mark.parametrize("record", TASK_RUNS, ids=lambda r: str(sorted(r))[:40])
def test_a_task_run_is_written_as_json_dumps_writes_it(record: dict[str, Any]) -> None:
    assert task_run_json(record).encode() == _json_body(record)
    assert batch_body([record, record], task_run_json) == _json_body([record, record])


@pytest.mark.parametrize("record", LOGS, ids=lambda r: str(sorted(r.items()))[:60])
def test_a_log_line_is_written_as_json_dumps_writes_it(record: dict[str, Any]) -> None:
    assert log_json(record).encode() == _json_body(record)
    assert batch_body([record, record], log_json) == _json_body([record, record])


def test_the_records_the_runtime_builds_are_written_without_json_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(value: Any) -> str:
        raise AssertionError(f"json.dumps for {value}")

    monkeypatch.setattr(record_json, "_dumps", refuse)
    for record in TASK_RUNS[:4]:
        task_run_json(record)
    for record in LOGS[:5]:
        log_json(record)


def test_an_empty_batch_is_an_empty_list() -> None:
    assert batch_body([], log_json) == _json_body([]) == b"[]"


@pytest.mark.parametrize("stamp", [math.nan, math.inf, -math.inf])
def test_a_log_time_that_is_not_finite_is_refused_as_json_dumps_refuses_it(stamp: float) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        log_json(log(timestamp=stamp))
    with pytest.raises(ValueError, match="JSON compliant"):
        _json_body(log(timestamp=stamp))


def test_a_lone_surrogate_fails_as_it_did() -> None:
    with pytest.raises(UnicodeEncodeError):
        batch_body([log(message="\ud800")], log_json)
    with pytest.raises(UnicodeEncodeError):
        _json_body([log(message="\ud800")])


def test_iso_text_is_isoformat() -> None:
    plus_two = timezone(timedelta(hours=2))
    start = datetime(2026, 12, 31, 23, 59, 0, tzinfo=timezone.utc)
    values = [start + timedelta(seconds=i // 2, microseconds=(i % 3) * 500_001) for i in range(1200)]
    values += [
        datetime(1, 1, 1, tzinfo=timezone.utc),
        datetime(999, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
        datetime(2026, 12, 1, 15, 0, tzinfo=plus_two),
        datetime(2026, 12, 1, 15, 0, 0, 5, tzinfo=timezone(timedelta(0))),
        datetime(2026, 12, 1, 15, 0),
    ]
    for value in values:
        assert iso_text(value) == value.isoformat(), value


def test_a_state_made_from_a_type_name_still_holds_the_type() -> None:
    state = State("FAILED")  # type: ignore[arg-type]
    assert state.type is StateType.FAILED and state.name == "Failed"
    with pytest.raises(ValueError):
        State("DONE")  # type: ignore[arg-type]
