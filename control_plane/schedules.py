"""Schedules: when a deployment runs by itself. One deployment may have several, each a
cron expression (in a time zone, DST-correct), an interval (from an anchor) or an RFC 5545
rrule. `slot_times` is pure: the scheduler turns its times into runs."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import model_validator
from sqlmodel import Field, SQLModel

from control_plane.columns import TABLE_CONFIG, TEN_YEARS, JsonBool, JsonDateTime, JsonFloat, utc_column, utcnow


class Catchup(str, enum.Enum):
    """What to do with slots missed while nothing dispatched (server down, deployment paused)."""

    SKIP_MISSED = "skip-missed"  # run none of them; carry on from now
    RUN_LATEST = "run-latest"  # run the most recent one, once


# Interval bounds: below a second a schedule would flood the store; past ten years the
# slot arithmetic overflows (a timedelta holds at most ~2.7 million years, and anchors add up).
MIN_INTERVAL_SECONDS = 1.0
MAX_INTERVAL_SECONDS = TEN_YEARS


def _time_zones(schema: dict[str, Any]) -> None:
    # Listed when the OpenAPI document is built, not at import (it reads the tz database).
    from zoneinfo import available_timezones

    schema["enum"] = sorted(available_timezones())


class ScheduleBase(SQLModel):
    # `format: cron` and `format: rrule` name grammars JSON Schema has no keyword for.
    cron: str | None = Field(
        default=None,
        description="Cron expression, e.g. '0 9 * * 1-5'",
        schema_extra={"json_schema_extra": {"format": "cron"}},
    )
    # The bounds are stated here and checked in check_schedule, whose message says what to use instead.
    interval_seconds: JsonFloat | None = Field(
        default=None,
        description="Run every N seconds (1 s to ten years)",
        schema_extra={"json_schema_extra": {"minimum": MIN_INTERVAL_SECONDS, "maximum": MAX_INTERVAL_SECONDS}},
    )
    anchor: JsonDateTime | None = Field(
        default=None, sa_column=utc_column(), description="Interval slots fall on anchor + k*interval"
    )
    rrule: str | None = Field(
        default=None,
        description="RFC 5545 recurrence rule, e.g. 'FREQ=DAILY;BYHOUR=9'",
        schema_extra={"json_schema_extra": {"format": "rrule"}},
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone the cron/rrule is read in",
        schema_extra={"json_schema_extra": _time_zones},
    )
    active: JsonBool = True
    catchup: str = Field(
        default=Catchup.RUN_LATEST.value,
        description="After downtime: 'skip-missed' runs none of the missed slots, 'run-latest' the latest once",
        schema_extra={"json_schema_extra": {"enum": [c.value for c in Catchup]}},
    )


class ScheduleCreate(ScheduleBase):
    """One schedule: exactly one of cron, interval_seconds or rrule."""

    model_config = {  # type: ignore[assignment]
        "extra": "forbid",
        "json_schema_extra": {
            "oneOf": [
                {"properties": {kind: {"type": kind_type}}, "required": [kind]}
                for kind, kind_type in (("cron", "string"), ("interval_seconds", "number"), ("rrule", "string"))
            ]
        },
    }

    @model_validator(mode="after")
    def _one_kind(self) -> ScheduleCreate:
        given = [k for k in ("cron", "interval_seconds", "rrule") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of cron, interval_seconds or rrule (got {given or 'none'})")
        if self.catchup not in {c.value for c in Catchup}:
            raise ValueError(f"unknown catchup {self.catchup!r}; use 'skip-missed' or 'run-latest'")
        if self.anchor is not None and self.anchor.tzinfo is None:
            self.anchor = self.anchor.replace(tzinfo=timezone.utc)
        check_schedule(self)
        return self


class Schedule(ScheduleBase, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "schedule"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True)
    deployment_id: str = Field(foreign_key="deployment.id", index=True)
    # The latest slot the scheduler has made a run for (or decided to skip).
    last_slot: datetime | None = Field(default=None, sa_column=utc_column())
    created: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class SchedulePublic(ScheduleBase):
    """One schedule of a deployment."""

    id: str
    deployment_id: str
    last_slot: datetime | None = None


def check_schedule(schedule: ScheduleBase) -> None:
    """Raise ValueError, saying what is wrong, when the schedule cannot produce times."""
    interval = schedule.interval_seconds
    if interval is not None and not MIN_INTERVAL_SECONDS <= interval <= MAX_INTERVAL_SECONDS:
        raise ValueError(
            f"interval_seconds must be between {MIN_INTERVAL_SECONDS:.0f} and {MAX_INTERVAL_SECONDS:.0f} "
            f"(ten years), got {interval!r}; for rarer runs use a cron expression or an rrule"
        )
    try:
        zone = ZoneInfo(schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {schedule.timezone!r}; use an IANA name such as 'Europe/Paris'") from None
    if schedule.cron is not None:
        from croniter import croniter

        if not croniter.is_valid(schedule.cron):
            raise ValueError(f"invalid cron expression {schedule.cron!r}: {_cron_problem(schedule.cron)}")
    if schedule.rrule is not None:
        from dateutil.rrule import rrulestr

        try:
            rrulestr(schedule.rrule, dtstart=datetime(2000, 1, 1, tzinfo=zone))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid rrule {schedule.rrule!r}: {exc}") from None


_CRON_FIELDS = [
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12"),
    ("day-of-week", "0-6"),
]


def _cron_problem(expression: str) -> str:
    """Which part of an invalid cron expression is wrong, found field by field."""
    from croniter import croniter

    fields = expression.split()
    if len(fields) != 5:
        return f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}, e.g. '*/5 * * * *'"
    for i, (name, allowed) in enumerate(_CRON_FIELDS):
        probe = ["*"] * 5
        probe[i] = fields[i]
        if not croniter.is_valid(" ".join(probe)):
            return f"the {name} field {fields[i]!r} is not valid (allowed {allowed}, with * , - /)"
    return "the fields do not combine into a valid schedule"


def slot_times(
    schedule: ScheduleBase, after: datetime, until: datetime, limit: int, *, origin: datetime
) -> list[datetime]:
    """Up to `limit` slot times t with after < t <= until, in UTC, ascending. Interval and
    rrule slots count from the schedule's anchor, else from `origin` (its creation), so
    every pass of the scheduler sees the same slots."""
    zone = ZoneInfo(schedule.timezone)
    out: list[datetime] = []
    if schedule.interval_seconds is not None:
        step = timedelta(seconds=schedule.interval_seconds)
        anchor = schedule.anchor or origin
        k = max(0, int((after - anchor) / step))
        t = anchor + k * step
        while len(out) < limit and t <= until:
            if t > after:
                out.append(t)
            t += step
        return out
    if schedule.cron is not None:
        from croniter import croniter

        # croniter walks local wall-clock time in `zone`: 09:00 stays 09:00 across DST.
        it = croniter(schedule.cron, after.astimezone(zone))
        previous_wall = None
        while len(out) < limit:
            local = it.get_next(datetime)
            t = local.astimezone(timezone.utc)
            if t > until:
                break
            if local.replace(tzinfo=None) != previous_wall:  # a repeated hour (DST ends) runs once
                out.append(t)
            previous_wall = local.replace(tzinfo=None)
        return out
    from dateutil.rrule import rrulestr

    rule: Any = rrulestr(schedule.rrule or "", dtstart=_rrule_start(schedule.anchor or origin, zone))
    t = rule.after(after.astimezone(zone))
    while t is not None and len(out) < limit and t <= until:
        out.append(t.astimezone(timezone.utc))
        t = rule.after(t)
    return out


def _rrule_start(origin: datetime, zone: ZoneInfo) -> datetime:
    # Local midnight of the origin's day: BYHOUR/BYMINUTE rules keep their wall-clock
    # meaning in the schedule's zone. A DTSTART inside the rule wins over this.
    return origin.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)


def latest_slot(schedule: ScheduleBase, after: datetime, until: datetime, *, origin: datetime) -> datetime | None:
    """The last slot t with after < t <= until, found without walking every slot between
    (a long downtime may span many)."""
    zone = ZoneInfo(schedule.timezone)
    t: datetime | None
    if schedule.interval_seconds is not None:
        step = timedelta(seconds=schedule.interval_seconds)
        anchor = schedule.anchor or origin
        if until < anchor:
            return None
        t = anchor + int((until - anchor) / step) * step
    elif schedule.cron is not None:
        from croniter import croniter

        local_until = until.astimezone(zone)
        it = croniter(schedule.cron, local_until + timedelta(microseconds=1))
        t = it.get_prev(datetime).astimezone(timezone.utc)
    else:
        from dateutil.rrule import rrulestr

        rule: Any = rrulestr(schedule.rrule or "", dtstart=_rrule_start(schedule.anchor or origin, zone))
        found = rule.before(until.astimezone(zone), inc=True)
        t = found.astimezone(timezone.utc) if found is not None else None
    return t if t is not None and t > after else None
