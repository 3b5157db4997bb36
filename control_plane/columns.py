"""Column types shared by the tables."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, Column, DateTime, Enum
from sqlalchemy.types import TypeDecorator

# The largest value an INTEGER column holds on PostgreSQL: counts and limits stop here.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1  # and ids (BIGINT; SQLite's INTEGER)


def _json_number(kind: str) -> Any:
    """JSON Schema's integer/number, exactly: 3 and 3.0 are integers; `true` and "3" are not
    (pydantic's lax mode takes both; strict mode refuses 3.0, which the schema allows)."""

    def check(value: Any) -> Any:
        if isinstance(value, (bool, str, bytes)):
            raise PydanticCustomError(f"{kind}_type", f"Input should be a valid {kind}, not {type(value).__name__}")
        return value

    return BeforeValidator(check)


JsonInt = Annotated[int, _json_number("integer")]
JsonFloat = Annotated[float, _json_number("number")]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


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
