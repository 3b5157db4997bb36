"""Statements over a batch of rows by id, one statement shape whatever the batch size.

On PostgreSQL a batch's ids travel as one array parameter (`id = ANY(:ids)`), and values
that differ per row as parallel arrays joined in with `unnest`: the statement text is the
same for 1 row or 500, so SQLAlchemy's compiled cache, psycopg's parsed-query cache and
the server's prepared statements all apply. An `IN (...)` list or a `CASE id WHEN ...`
with one term per row is a new, long statement per batch size, which SQLAlchemy, psycopg
and PostgreSQL each build and parse again (most of a dispatch batch's client CPU before
this). SQLite, with no arrays, keeps `IN` and `CASE`; its statements run in-process.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import ARRAY, String, any_, bindparam, case
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import func
from sqlalchemy.sql.type_api import TypeEngine


def is_postgres(session: Any) -> bool:
    return bool(session.get_bind().dialect.name == "postgresql")


def id_in(column: Any, ids: Collection[str], postgres: bool) -> ColumnElement[bool]:
    """SQL: `column` is one of `ids`."""
    if postgres:
        return column == any_(bindparam(None, list(ids), type_=ARRAY(String)))  # type: ignore[no-any-return]
    return column.in_(list(ids))  # type: ignore[no-any-return]


def per_row_values(
    table_id: Any, ids: Sequence[str], values: Mapping[str, Mapping[str, Any]], postgres: bool
) -> tuple[dict[str, Any], ColumnElement[bool] | None]:
    """Column values that differ per row: `values` maps a column name to {row id: value}
    (every id present). Returns the SET clause and, on PostgreSQL, the join condition the
    UPDATE's WHERE must include (its rows come FROM `unnest` of one array per column)."""
    if not values:
        return {}, None
    if postgres:
        arrays = {"id": list(ids), **{name: [by_id[i] for i in ids] for name, by_id in values.items()}}
        rows = rows_from_arrays("per_row", arrays, {})
        return {name: rows.c[name] for name in values}, table_id == rows.c.id
    return {name: case(dict(by_id), value=table_id) for name, by_id in values.items()}, None


def rows_from_arrays(name: str, columns: Mapping[str, Sequence[Any]], types: Mapping[str, TypeEngine[Any]]) -> Any:
    """PostgreSQL: a FROM item with one row per position of the parallel `columns`
    (text unless `types` says otherwise), for an INSERT ... SELECT of a whole batch."""
    arrays = [bindparam(None, list(values), type_=ARRAY(types.get(key, String()))) for key, values in columns.items()]
    return func.unnest(*arrays).table_valued(*columns).render_derived(name=name)
