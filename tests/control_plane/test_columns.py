"""Timestamps keep their instant through every write path: the SQLite text a UTC column
stores is SQLAlchemy's own DATETIME text, whichever way the row goes in, and a task run's
times come back as the instants the runtime reported, in any offset."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from control_plane.bulk import insert_rows
from control_plane.columns import UTCDateTime
from control_plane.db import create_db_engine, json_loads

PLUS_TWO = timezone(timedelta(hours=2))
INSTANTS = [
    datetime(2026, 12, 1, 15, 0, 0, tzinfo=timezone.utc),  # no microseconds: still six digits
    datetime(2026, 12, 1, 17, 0, 0, 123456, tzinfo=PLUS_TWO),  # stored as 15:00 UTC
    datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))),  # UTC is the next year
    datetime(1, 1, 1, 0, 0, tzinfo=timezone.utc),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
]


@pytest.mark.parametrize("value", INSTANTS, ids=str)
def test_sqlite_text_is_sqlalchemys_datetime_text_of_the_utc_instant(value: datetime) -> None:
    dialect = sqlite.dialect()
    column = UTCDateTime()
    ours = column.dialect_impl(dialect).bind_processor(dialect)
    # What SQLAlchemy does without our processor: process_bind_param, then DATETIME's.
    impl: Any = column.dialect_impl(dialect)
    theirs: Any = TypeDecorator.bind_processor(impl, dialect)
    assert ours is not None and theirs is not None
    assert ours(value) == theirs(value)
    assert ours(value) == value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f").rjust(26, "0")
    assert ours(None) is None


def test_one_processor_keeps_each_instants_text_across_many_seconds() -> None:
    # The processor caches each second's text: past its cache's size, across a day's and
    # a year's end, in any offset, and for pydantic's own zone objects (what a request's
    # timestamps carry), the text is still SQLAlchemy's for that instant.
    from pydantic import TypeAdapter

    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    impl: Any = UTCDateTime().dialect_impl(dialect)
    theirs: Any = TypeDecorator.bind_processor(impl, dialect)
    assert ours is not None and theirs is not None
    start = datetime(2026, 12, 31, 23, 50, 0, tzinfo=timezone.utc)
    for i in range(5000):
        value = (start + timedelta(seconds=i // 3, microseconds=i * 7919)).astimezone([PLUS_TWO, timezone.utc][i % 2])
        assert ours(value) == theirs(value), value
    parsed = TypeAdapter(list[datetime]).validate_python(
        ["2026-12-01T15:00:00Z", "2026-12-01T17:00:00.000001+02:00", "2026-12-01T15:00:00.999999+00:00"]
    )
    assert [ours(value) for value in parsed] == [
        "2026-12-01 15:00:00.000000",
        "2026-12-01 15:00:00.000001",
        "2026-12-01 15:00:00.999999",
    ]


def test_a_naive_datetime_is_refused_on_sqlite() -> None:
    dialect = sqlite.dialect()
    process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    with pytest.raises(ValueError, match="naive"):
        process(datetime(2026, 12, 1, 15, 0))  # type: ignore[misc]


def test_bulk_and_orm_inserts_read_back_the_same_instants(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    table = Table("stamps", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime()))
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        insert_rows(connection, table, [{"id": i, "at": value} for i, value in enumerate(INSTANTS)])
        connection.execute(insert(table), [{"id": 100 + i, "at": value} for i, value in enumerate(INSTANTS)])
    with engine.connect() as connection:
        rows = dict(connection.execute(select(table.c.id, table.c.at)).all())
        texts: dict[int, str] = dict(connection.exec_driver_sql("SELECT id, at FROM stamps").all())
    for i, value in enumerate(INSTANTS):
        assert rows[i] == rows[100 + i] == value  # the same instant, as an aware datetime
        assert rows[i].tzinfo is not None
        assert texts[i] == texts[100 + i]
    # And a plain DateTime column of SQLAlchemy's stores the same text for the UTC time.
    plain = DateTime().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
    assert plain is not None
    assert texts[1] == plain(INSTANTS[1].astimezone(timezone.utc).replace(tzinfo=None))


def _report_task_run(api: Any, deployment: dict, state_timestamp: str, **times: str) -> tuple[dict, Any]:
    """A new run of `deployment`, and the answer to reporting one task run of it."""
    run = api.post(f"/api/deployments/{deployment['id']}/runs", json={"parameters": {"label": "x"}}).json()
    state = {"type": "COMPLETED", "name": "Completed", "timestamp": state_timestamp}
    report = {"id": "t-1", "name": "add-0", "task_key": "add", "state": state, **times}
    return run, api.post(f"/api/flow-runs/{run['id']}/task-runs", json=[report])


def test_task_run_times_in_any_offset_come_back_as_the_same_instants(api: Any, deployment: dict) -> None:
    run, response = _report_task_run(
        api,
        deployment,
        "2026-12-01T17:00:00.5+02:00",
        start_time="2026-12-01T14:59:59Z",
        end_time="2026-12-01t10:00:00.500000-0500",
    )
    assert response.status_code == 204, response.text
    (task_run,) = api.get(f"/api/flow-runs/{run['id']}/task-runs").json()
    read = {k: datetime.fromisoformat(task_run[k].replace("Z", "+00:00")) for k in ("start_time", "end_time")}
    assert read["start_time"] == datetime(2026, 12, 1, 14, 59, 59, tzinfo=timezone.utc)
    assert read["end_time"] == datetime(2026, 12, 1, 15, 0, 0, 500000, tzinfo=timezone.utc)


@pytest.mark.parametrize("stamp", ["2026-12-01T15:00:00", "1764601200", "2026-12-01"])
def test_a_task_run_time_without_a_zone_is_a_422_that_says_so(api: Any, deployment: dict, stamp: str) -> None:
    run, response = _report_task_run(api, deployment, "2026-12-01T15:00:00Z", start_time=stamp)
    assert response.status_code == 422, response.text
    assert "time zone" in response.text or "RFC 3339" in response.text
    assert api.get(f"/api/flow-runs/{run['id']}/task-runs").json() == []


# JSON documents a column may hold, with what json.loads makes of each: exotic numbers, a
# repeated key, and a lone surrogate escape (which pydantic-core's parser refuses).
JSON_TEXTS = [
    '{"a": 1, "a": 2}',
    "123456789012345678901234567890",
    "[1e400, -1e400, 0.1, 5e-324, 1.0000000000000002, -0.0, 9007199254740993]",
    '{"s": "\\ud83d\\ude00 \\u00e9", "t": true, "n": null}',
    '"\\ud800"',
    '{"nested": [{"x": [1, {"y": "z"}]}]}',
]


@pytest.mark.parametrize("text", JSON_TEXTS)
def test_json_loads_reads_what_the_standard_library_reads(text: str) -> None:
    for data in (text, text.encode()):
        ours = json_loads(data)
        assert repr(ours) == repr(json.loads(text))


def test_postgresql_reads_json_and_timestamps_as_the_standard_library_and_utc_columns(pg_schema_url: str) -> None:
    """The PostgreSQL engine parses JSON columns with pydantic-core (db.json_loads) and
    reads UTC columns without a result processor: the same values either way."""
    engine = create_db_engine(pg_schema_url)
    table = Table(
        "docs", MetaData(), Column("id", Integer, primary_key=True), Column("doc", JSON), Column("at", UTCDateTime())
    )
    try:
        table.metadata.create_all(engine)
        with engine.begin() as connection:
            for i, text in enumerate(JSON_TEXTS):
                connection.exec_driver_sql("INSERT INTO docs (id, doc) VALUES (%s, %s::json)", (i, text))
            connection.execute(insert(table), [{"id": 100 + i, "at": v} for i, v in enumerate(INSTANTS)])
        with engine.connect() as connection:
            docs = dict(connection.execute(select(table.c.id, table.c.doc).where(table.c.id < 100)).all())
            stamps = dict(connection.execute(select(table.c.id, table.c.at).where(table.c.id >= 100)).all())
    finally:
        engine.dispose()
    assert {i: repr(doc) for i, doc in docs.items()} == {i: repr(json.loads(t)) for i, t in enumerate(JSON_TEXTS)}
    for i, value in enumerate(INSTANTS):
        assert stamps[100 + i] == value and stamps[100 + i].tzinfo is not None
