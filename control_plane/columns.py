"""Column types shared by the tables, and the JSON types request fields are checked as
(exactly what the OpenAPI document says: no lax coercion of `0` to false or `"3"` to 3)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import AwareDatetime, BeforeValidator, GetPydanticSchema, Strict
from pydantic_core import PydanticCustomError, core_schema
from sqlalchemy import JSON, Column, DateTime, Enum
from sqlalchemy.types import TypeDecorator
from sqlmodel.main import SQLModelConfig

# The largest value an INTEGER column holds on PostgreSQL: counts and limits stop here.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1  # and ids (BIGINT; SQLite's INTEGER)


def json_number(kind: str) -> Any:
    """JSON Schema's integer/number, exactly: 3 and 3.0 are integers; `true` and "3" are not
    (pydantic's lax mode takes both; strict mode refuses 3.0, which the schema allows)."""

    def check(value: Any) -> Any:
        if isinstance(value, (bool, str, bytes)):
            raise PydanticCustomError(f"{kind}_type", f"Input should be a valid {kind}, not {type(value).__name__}")
        return value

    return BeforeValidator(check)


JsonInt = Annotated[int, json_number("integer")]
JsonFloat = Annotated[float, json_number("number")]
# Bounds come before the type check so the OpenAPI document states them (`minimum`,
# `maximum`); after a validator pydantic can only write its own `ge`/`le` keys.
Count = Annotated[int, Ge(0), Le(INT32_MAX), json_number("integer")]  # a limit, retries, a run count
PositiveCount = Annotated[int, Ge(1), Le(INT32_MAX), json_number("integer")]
TEN_YEARS = 10 * 365 * 24 * 3600.0
Seconds = Annotated[float, Ge(0), Le(TEN_YEARS), json_number("number")]  # a delay or a window
# JSON's true and false only (lax mode also takes 0, 1, "yes" and "true").
JsonBool = Annotated[bool, Strict()]


def _rfc3339(value: Any) -> Any:
    # Lax mode reads a number, or a numeric string in a query, as seconds since the epoch;
    # JSON Schema's date-time is RFC 3339 text only.
    if not isinstance(value, datetime) and not (isinstance(value, str) and _DATE_TIME.match(value)):
        raise PydanticCustomError("datetime_type", "Input should be an RFC 3339 date-time with a time zone")
    # The zone is in the last six characters: searching only there, not from every position.
    if isinstance(value, str) and not _ZONE.search(value, len(value) - 6):
        raise PydanticCustomError(
            "timezone_aware", "Input should name its time zone, e.g. 2026-12-01T15:00:00Z or +02:00 at the end"
        )
    return value


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]")
_ZONE = re.compile(r"([Zz]|[+-]\d{2}:?\d{2})$")
# An RFC 3339 date-time with its offset (`2026-12-01T15:00:00Z`), as `format: date-time` says.
JsonDateTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]


# The same checks made by pydantic-core alone, for a runtime's batches (json_batches.py):
# each takes a subset of what its twin above takes, JSON's own types only (a count of 3.0,
# or a date-time these patterns cannot vouch for, goes on to the full check), and gives
# the same value. A Python validator per field was most of a batch's validation: ~12k
# instructions each for a count, ~12k for a date-time (callgrind).
StrictCount = Annotated[int, Strict(), Ge(0), Le(INT32_MAX)]
StrictFloat = Annotated[float, Strict()]
# What _rfc3339 vouches for, in [0-9] (Python's \d also takes other digits) and with no
# newline anywhere (its `$` also matches before a last one): then the same parse.
_STRICT_DATE_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ].*(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})$"
StrictDateTime = Annotated[
    datetime,
    GetPydanticSchema(
        lambda _source, _handler: core_schema.chain_schema(
            [
                core_schema.str_schema(pattern=_STRICT_DATE_TIME, strict=True),
                core_schema.datetime_schema(tz_constraint="aware"),
            ]
        )
    ),
]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else _as_utc(value)

    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        # SQLite keeps a datetime as text in SQLAlchemy's DATETIME format
        # (`2026-12-01 15:00:00.000000`, UTC here): the same text, built from a cached
        # text of the whole second and the microseconds (tests/control_plane/test_columns.py
        # holds it to SQLAlchemy's own). For a runtime's batch, whose timestamps fall in
        # a few seconds, this took ~9k instructions a timestamp against ~15k for one
        # %-format of seven numbers after `astimezone` (callgrind): zero-padded %-formats,
        # `isoformat`, `strftime` and `replace` all format or parse through slow generic C
        # paths. A UTC value (offset zero, as a runtime sends) is not converted at all.
        seconds: dict[tuple[int, ...], str] = {}

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            offset = value.utcoffset()
            if offset or offset is None:  # not UTC already, or naive (refused)
                value = _as_utc(value)
            second = (value.year, value.month, value.day, value.hour, value.minute, value.second)
            text = seconds.get(second)
            if text is None:
                if len(seconds) >= 4096:  # a long-lived processor: keep the cache small
                    seconds.clear()
                y, mo, d, h, mi, s = second
                text = seconds[second] = f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}."
            return text + str(value.microsecond + 1_000_000)[1:]

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name == "postgresql":
            # psycopg reads `timestamp with time zone` as an aware datetime: nothing to
            # add, and one Python call fewer per timestamp read (six a listed run).
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(timezone.utc)


def utc_column(**kwargs: Any) -> Any:
    return Column(UTCDateTime(), **kwargs)


def state_type_column(**kwargs: Any) -> Any:
    # A plain string column (not a database enum), so new state types need no ALTER TYPE.
    from runtime.states import StateType

    return Column(Enum(StateType, native_enum=False, create_constraint=False, length=16), **kwargs)


def json_column(**kwargs: Any) -> Any:
    return Column(JSON, **kwargs)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    """A new row id (a random UUID, as text)."""
    return str(uuid.uuid4())


# A table's pydantic validator and serializer are built on first use, not when its class
# is defined: the ORM reads and writes tables without them (the API's own schemas are
# other classes), so a control plane that never validates into a table never builds
# them. ~0.5-0.8 MiB of a server's RSS and ~0.1 s of importing the models.
TABLE_CONFIG = SQLModelConfig(defer_build=True)
