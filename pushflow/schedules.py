"""Schedules a flow carries in code (Prefect's `prefect.schedules`, and Prefect Core's
`IntervalSchedule` / `CronSchedule`)."""

from runtime.schedules import Cron, CronSchedule, Interval, IntervalSchedule

__all__ = ["Cron", "CronSchedule", "Interval", "IntervalSchedule"]
