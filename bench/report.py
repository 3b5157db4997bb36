"""Rows of the comparison: two measurements, their ratio, the target, and the verdict.

A measurement is a median over repeated samples with min/max; `better` says whether a
lower or higher value wins, so the ratio always reads "how many times better pushflow is".
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from pathlib import Path
from typing import Any


@dataclasses.dataclass
class Measure:
    median: float
    min: float
    max: float
    n: int
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, samples: list[float], **extra: Any) -> Measure:
        if not samples:
            raise ValueError("no samples")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples), extra)

    @classmethod
    def single(cls, value: float, **extra: Any) -> Measure:
        return cls(value, value, value, 1, extra)


@dataclasses.dataclass
class Row:
    workload: str
    unit: str
    better: str  # "lower" or "higher"
    how: str
    pushflow: Measure | None = None
    prefect: Measure | None = None
    # Target: pushflow at least `target_ratio` times better than Prefect, and/or an
    # absolute bound on pushflow's value (`target_abs`, in `unit`).
    target_ratio: float | None = None
    target_abs: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not (self.pushflow and self.prefect) or not self.pushflow.median or not self.prefect.median:
            return None
        if self.pushflow.median < 0 or self.prefect.median < 0:
            return None  # a slope lost in noise; the ratio would mean nothing
        if self.better == "lower":
            return self.prefect.median / self.pushflow.median
        return self.pushflow.median / self.prefect.median

    @property
    def target(self) -> str:
        parts = []
        if self.target_ratio is not None:
            parts.append(f">={self.target_ratio:g}x")
        if self.target_abs is not None:
            parts.append(f"{'<' if self.better == 'lower' else '>'}{self.target_abs:g} {self.unit}")
        return " and ".join(parts) or "-"

    @property
    def met(self) -> bool | None:
        checks: list[bool] = []
        if self.target_ratio is not None:
            if self.ratio is None:
                return None
            checks.append(self.ratio >= self.target_ratio)
        if self.target_abs is not None:
            if self.pushflow is None:
                return None
            value = self.pushflow.median
            checks.append(value < self.target_abs if self.better == "lower" else value > self.target_abs)
        return all(checks) if checks else None

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.update(ratio=self.ratio, target=self.target, met=self.met)
        return out


def fmt(m: Measure | None, unit: str) -> str:
    if m is None:
        return "-"
    digits = 0 if abs(m.median) >= 100 else (1 if abs(m.median) >= 10 else 2)
    if abs(m.median) < 1:
        digits = 3
    text = f"{m.median:.{digits}f} {unit}"
    if m.n > 1:
        text += f" [{m.min:.{digits}f}–{m.max:.{digits}f}]"
    return text


def table(rows: list[Row]) -> str:
    header = ("workload", "pushflow", "Prefect 3", "ratio", "target", "met?")
    lines = [header]
    for r in rows:
        ratio = f"{r.ratio:.1f}x" if r.ratio is not None else "-"
        met = {True: "yes", False: "NO", None: "-"}[r.met]
        lines.append((r.workload, fmt(r.pushflow, r.unit), fmt(r.prefect, r.unit), ratio, r.target, met))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for i, line in enumerate(lines):
        out.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=False)).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out + _notes(rows, "*"))


def markdown(rows: list[Row]) -> str:
    out = [
        "| workload | pushflow | Prefect 3 | ratio | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r.ratio:.1f}×" if r.ratio is not None else "–"
        met = {True: "yes", False: "**no**", None: "–"}[r.met]
        out.append(
            f"| {r.workload} | {fmt(r.pushflow, r.unit)} | {fmt(r.prefect, r.unit)} | {ratio} | {r.target} | {met} |"
        )
    return "\n".join(out + _notes(rows, "-"))


def _notes(rows: list[Row], bullet: str) -> list[str]:
    """Notes under the table: failures and time caps (fewer samples than asked for)."""
    notes = [f"{bullet} {r.workload}: {r.note}" for r in rows if r.note]
    return ["", *notes] if notes else []


def write_json(path: Path, rows: list[Row], meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "rows": [r.to_json() for r in rows]}, indent=2) + "\n")
