"""Chart geometry for server-rendered SVG: the task-run Gantt chart and runs per state
over time. Pure functions over rows; templates draw the shapes (attributes only, so the
CSP needs no inline styles)."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone

from control_plane.models import TaskRun

LABEL_WIDTH = 300
CHART_WIDTH = 1000
ROW_HEIGHT = 22


@dataclasses.dataclass(frozen=True)
class GanttRow:
    label: str
    y: int
    state: str = ""
    state_name: str = ""
    x: float = 0.0
    width: float = 0.0
    title: str = ""
    group: bool = False  # the heading row of a mapped task's runs


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def gantt(task_runs: Sequence[TaskRun], now: datetime | None = None) -> tuple[list[GanttRow], int]:
    """One bar per task run, grouped by task (a mapped task's runs sit under one heading),
    on a shared time axis; returns the rows and the chart's height."""
    now = now or datetime.now(timezone.utc)
    starts = [_utc(t.start_time) for t in task_runs if t.start_time]
    if not starts:
        starts = [now]
    t0 = min(starts)
    t1 = max(
        [_utc(t.end_time) for t in task_runs if t.end_time] + [max(starts)] + [now if _any_open(task_runs) else t0]
    )
    span = max((t1 - t0).total_seconds(), 0.001)
    scale = (CHART_WIDTH - LABEL_WIDTH - 10) / span
    groups: dict[str, list[TaskRun]] = defaultdict(list)
    for task_run in sorted(task_runs, key=lambda t: (_utc(t.start_time) if t.start_time else now, t.name)):
        groups[task_run.task_key].append(task_run)
    rows: list[GanttRow] = []
    for members in groups.values():
        if len(members) > 1:
            rows.append(GanttRow(label=f"{_task_name(members[0])} ×{len(members)} (mapped)", y=0, group=True))
        for task_run in members:
            start = _utc(task_run.start_time) if task_run.start_time else None
            end = _utc(task_run.end_time) if task_run.end_time else (now if start else None)
            x = LABEL_WIDTH + ((start - t0).total_seconds() * scale if start else 0)
            width = max(((end - start).total_seconds() * scale) if start and end else 0, 3)
            seconds = (end - start).total_seconds() if start and end else None
            took = f"{seconds:.2f} s" if seconds is not None else "not started"
            title = f"{task_run.name}: {task_run.state_name} ({task_run.state_type.value}), {took}"
            rows.append(
                GanttRow(
                    label=task_run.name,
                    y=0,
                    state=task_run.state_type.value,
                    state_name=task_run.state_name,
                    x=round(x, 1),
                    width=round(width, 1),
                    title=title,
                )
            )
    rows = [dataclasses.replace(row, y=i * ROW_HEIGHT) for i, row in enumerate(rows)]
    return rows, max(len(rows), 1) * ROW_HEIGHT


def _any_open(task_runs: Iterable[TaskRun]) -> bool:
    return any(t.start_time and not t.end_time for t in task_runs)


def _task_name(task_run: TaskRun) -> str:
    # task_key is "<name>-<hash>" style; the run name minus its map index reads better.
    name, _, index = task_run.name.rpartition("-")
    return name if index.isdigit() else task_run.name


@dataclasses.dataclass(frozen=True)
class Bucket:
    start: datetime
    counts: dict[str, int]
    # (state, y, height) stacked from the bottom
    segments: list[tuple[str, float, float]]
    x: float


def runs_over_time(
    rows: Iterable[tuple[datetime, str]], *, hours: int = 24, height: int = 200, now: datetime | None = None
) -> tuple[list[Bucket], int]:
    """Hourly buckets of (created, state) rows for the last `hours`; returns the buckets
    and the largest bucket's total (the y axis)."""
    now = (now or datetime.now(timezone.utc)).replace(minute=0, second=0, microsecond=0)
    first = now - timedelta(hours=hours - 1)
    counts: list[Counter[str]] = [Counter() for _ in range(hours)]
    for created, state in rows:
        index = int((_utc(created) - first).total_seconds() // 3600)
        if 0 <= index < hours:
            counts[index][state] += 1
    peak = max([sum(c.values()) for c in counts] + [1])
    slot = CHART_WIDTH / hours
    buckets = []
    for i, counter in enumerate(counts):
        y = float(height)
        segments = []
        for state, count in sorted(counter.items()):
            h = count / peak * (height - 10)
            y -= h
            segments.append((state, round(y, 1), round(h, 1)))
        buckets.append(Bucket(first + timedelta(hours=i), dict(counter), segments, round(i * slot + 2, 1)))
    return buckets, peak
