"""Schedules a flow carries in code: Prefect Core's `Flow("x", schedule=...)`, and the
`schedule=` of `flow.deploy(...)`.

    IntervalSchedule(interval=timedelta(minutes=5))    # Prefect 3 spelling: Interval(...)
    CronSchedule("0 9 * * 1-5", timezone="Europe/Paris")  # Prefect 3 spelling: Cron(...)

`next(n)` lists the next start times (what `Flow.run()` sleeps until); `to_wire()` is the
control plane's schedule, so a registered flow is scheduled by the server instead.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


class IntervalSchedule:
    def __init__(
        self,
        interval: timedelta | float,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> None:
        self.interval = interval if isinstance(interval, timedelta) else timedelta(seconds=interval)
        if self.interval <= timedelta(0):
            raise ValueError(f"an interval schedule needs a positive interval, got {self.interval}")
        self.start_date = _utc(start_date) if start_date else datetime.now(timezone.utc)
        self.end_date = _utc(end_date) if end_date else None

    def next(self, n: int, after: datetime | None = None) -> list[datetime]:
        """The next `n` start times strictly after `after` (now), on start_date + k*interval."""
        after = _utc(after) if after else datetime.now(timezone.utc)
        step = self.interval.total_seconds()
        k = max(0, math.floor((after - self.start_date).total_seconds() / step) + 1)
        times = [self.start_date + timedelta(seconds=step * (k + i)) for i in range(n)]
        if self.start_date > after:
            times = [self.start_date + timedelta(seconds=step * i) for i in range(n)]
        return [t for t in times if self.end_date is None or t <= self.end_date]

    def to_wire(self) -> dict[str, Any]:
        return {"interval_seconds": self.interval.total_seconds(), "anchor": self.start_date.isoformat()}

    def __repr__(self) -> str:
        return f"IntervalSchedule(interval={self.interval!r})"


class CronSchedule:
    def __init__(
        self,
        cron: str,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        timezone: str = "UTC",
    ) -> None:
        self.cron = cron
        self.timezone = timezone
        self.start_date = _utc(start_date) if start_date else None
        self.end_date = _utc(end_date) if end_date else None
        self.next(1)  # a bad expression fails here, where it was written

    def next(self, n: int, after: datetime | None = None) -> list[datetime]:
        try:
            from croniter import croniter
        except ImportError as exc:
            raise ImportError('cron schedules run locally need croniter: pip install "pushflow[server]"') from exc
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(self.timezone)
        start = _utc(after) if after else datetime.now(timezone.utc)
        if self.start_date and self.start_date > start:
            start = self.start_date
        try:
            it = croniter(self.cron, start.astimezone(zone))
        except (ValueError, KeyError) as exc:
            raise ValueError(f"cron schedule {self.cron!r} is not a valid cron expression: {exc}") from None
        times = [it.get_next(datetime).astimezone(timezone.utc) for _ in range(n)]
        return [t for t in times if self.end_date is None or t <= self.end_date]

    def to_wire(self) -> dict[str, Any]:
        return {"cron": self.cron, "timezone": self.timezone}

    def __repr__(self) -> str:
        return f"CronSchedule({self.cron!r}, timezone={self.timezone!r})"


Interval = IntervalSchedule
Cron = CronSchedule

__all__ = ["Cron", "CronSchedule", "Interval", "IntervalSchedule"]
