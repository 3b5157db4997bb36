"""Which runs `GET /api/flow-runs` and the UI's runs page list, in what order, a page at a
time. The cursor is the last row's sort key and id, so pages stay stable while runs are added."""

from __future__ import annotations

import base64
import enum
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from control_plane.errors import InvalidInputError
from control_plane.models import FLOW_RUN_PUBLIC_COLUMNS, FlowRun
from runtime.states import StateType


class RunOrder(str, enum.Enum):
    """The order runs are listed in."""

    CREATED_DESC = "created_desc"  # newest first (the default)
    EXPECTED_START_DESC = "expected_start_desc"  # latest due first: what ran recently
    EXPECTED_START_ASC = "expected_start_asc"  # soonest first: what runs next


@dataclass
class RunFilter:
    """Which runs to list; each field left at None keeps every run."""

    deployment_id: str | None = None
    flow_name: str | None = None
    states: list[StateType] | None = None
    name: str | None = None
    id_prefix: str | None = None
    expected_before: datetime | None = None
    expected_after: datetime | None = None
    pool: str | None = None
    deployment_ids: list[str] | None = None  # any of these; an empty list keeps none
    created_since: datetime | None = None


def _sort_key(order: RunOrder) -> Any:
    if order is RunOrder.CREATED_DESC:
        return col(FlowRun.created)
    # A subflow run may have no expected start: it started when it was created.
    return func.coalesce(col(FlowRun.expected_start_time), col(FlowRun.created))


def conditions(where: RunFilter) -> list[Any]:
    """The filter as SQL conditions on FlowRun (also for counting what a filter keeps)."""
    found: list[Any] = []
    if where.deployment_id:
        found.append(col(FlowRun.deployment_id) == where.deployment_id)
    if where.flow_name:
        found.append(col(FlowRun.flow_name) == where.flow_name)
    if where.states:
        found.append(col(FlowRun.state_type).in_(where.states))
    if where.name:
        found.append(col(FlowRun.name) == where.name)
    if where.id_prefix:
        found.append(col(FlowRun.id).startswith(where.id_prefix.lower(), autoescape=True))
    if where.expected_before:
        found.append(_sort_key(RunOrder.EXPECTED_START_ASC) <= where.expected_before)
    if where.expected_after:
        found.append(_sort_key(RunOrder.EXPECTED_START_ASC) > where.expected_after)
    if where.pool:
        found.append(col(FlowRun.pool) == where.pool)
    if where.deployment_ids is not None:
        found.append(col(FlowRun.deployment_id).in_(where.deployment_ids))
    if where.created_since:
        found.append(col(FlowRun.created) >= where.created_since)
    return found


def page_query(where: RunFilter, order: RunOrder, limit: int, cursor: str | None) -> Any:
    """Rows of the columns a FlowRunPublic shows (plain rows: no ORM object per run)."""
    if cursor is None and where == _EVERY_RUN:
        return _first_page(order, limit)
    return _paged(select_columns(*FLOW_RUN_PUBLIC_COLUMNS), where, order, limit, cursor)


_EVERY_RUN = RunFilter()


@functools.lru_cache(maxsize=32)
def _first_page(order: RunOrder, limit: int) -> Any:
    """The newest (or soonest) runs unfiltered, what a listing asks most: its statement
    built once per order and size (building its 29 columns cost more than its rows)."""
    return _paged(select_columns(*FLOW_RUN_PUBLIC_COLUMNS), _EVERY_RUN, order, limit, None)


def run_page(
    session: Session, where: RunFilter, order: RunOrder, limit: int, cursor: str | None
) -> tuple[list[FlowRun], str | None]:
    """Up to `limit` runs as FlowRun objects (the UI's page), and the cursor of the page
    after them (None on the last page)."""
    rows = list(session.exec(_paged(select(FlowRun), where, order, limit, cursor)))
    next_cursor = encode_cursor(rows[limit - 1], order) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _paged(query: Any, where: RunFilter, order: RunOrder, limit: int, cursor: str | None) -> Any:
    """`query` (of FlowRun or its columns) filtered, after the cursor, ordered, one past `limit`."""
    key = _sort_key(order)
    query = query.where(*conditions(where))
    if cursor:
        at, run_id = decode_cursor(cursor)
        if order is RunOrder.EXPECTED_START_ASC:
            query = query.where(or_(key > at, and_(key == at, col(FlowRun.id) > run_id)))
        else:
            query = query.where(or_(key < at, and_(key == at, col(FlowRun.id) < run_id)))
    if order is RunOrder.EXPECTED_START_ASC:
        query = query.order_by(key.asc(), col(FlowRun.id).asc())
    else:
        query = query.order_by(key.desc(), col(FlowRun.id).desc())
    return query.limit(limit + 1)


def encode_cursor(run: Any, order: RunOrder) -> str:
    """The cursor after `run` (a FlowRun or a row with its created, expected_start_time, id)."""
    at = run.created if order is RunOrder.CREATED_DESC else (run.expected_start_time or run.created)
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{run.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("a cursor's time has a time zone")
        return when, run_id
    except ValueError:
        raise InvalidInputError("invalid cursor: pass back the next_cursor of a previous page") from None
