"""A bulk insert (control_plane/bulk.py) stores what SQLAlchemy's own INSERT stores: JSON
values written once per batch for a repeated list of strings are still each row's own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, create_engine, insert, select

from control_plane.bulk import insert_rows, select_by_ids

VALUES: list[Any] = [
    [],
    [],
    ["etl"],
    ["etl", "nightly"],
    ["etl"],
    [1],
    [True],
    [1.0],
    ["etl", 1],
    [["etl"]],
    ("etl",),
    {"etl": 1},
    "etl",
    None,
    [],
    ["é", 'quo"te'],
]


def test_bulk_json_values_are_stored_as_sqlalchemy_stores_them(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    table = Table("rows", MetaData(), Column("id", Integer, primary_key=True), Column("tags", JSON))
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        insert_rows(connection, table, [{"id": i, "tags": value} for i, value in enumerate(VALUES)])
        connection.execute(insert(table), [{"id": 100 + i, "tags": value} for i, value in enumerate(VALUES)])
    with engine.connect() as connection:
        texts = dict(connection.exec_driver_sql("SELECT id, tags FROM rows").all())
        values = dict(connection.execute(select(table.c.id, table.c.tags)).all())
    for i, value in enumerate(VALUES):
        assert texts[i] == texts[100 + i], value
        assert values[i] == values[100 + i]
    assert [values[i] for i in (5, 6, 7)] == [[1], [True], [1.0]]


def test_select_by_ids_reads_the_rows_with_those_ids(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    table = Table("runs", MetaData(), Column("id", String, primary_key=True), Column("owner", String))
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        insert_rows(connection, table, [{"id": f"t-{i}", "owner": f"r-{i % 2}"} for i in range(5)])
        found = select_by_ids(connection, table, ("id", "owner"), ["t-1", "t-3", "nope", "t-1"])
        assert sorted(found) == [("t-1", "r-1"), ("t-3", "r-1")]
        assert select_by_ids(connection, table, ("id",), []) == []
