"""A Cloud Run execution, read as the facts every pool reports (InfraStatus)."""

from __future__ import annotations

from typing import Any

from push_pools.base import InfraPhase, InfraStatus

# Condition.State values (enum-encoding=int on the wire)
_FAILED, _SUCCEEDED = 3, 4
_CAPACITY_WORDS = (
    "quota",
    "capacity",
    "resources are not available",
    "zone_resource_pool_exhausted",
)


def execution_status(execution: Any, exit_code: int | None) -> InfraStatus:
    """`exit_code` is the task's last attempt's, when the caller could read it."""
    if execution.cancelled_count or _completed_reason(execution) == "CANCELLED":
        return InfraStatus(
            InfraPhase.EXITED,
            exit_code=exit_code,
            reason=_with_code("Cloud Run execution was cancelled", exit_code),
        )
    if execution.succeeded_count and not execution.failed_count:
        return InfraStatus(
            InfraPhase.EXITED,
            exit_code=0 if exit_code is None else exit_code,
            reason="Cloud Run execution succeeded",
        )
    if execution.failed_count or execution.completion_time or _failed_conditions(execution):
        why = "; ".join(_failed_conditions(execution)) or "Cloud Run execution failed"
        return InfraStatus(
            InfraPhase.EXITED,
            exit_code=exit_code,
            reason=_with_code(why, exit_code),
            retryable=_looks_like_capacity(why),
        )
    if execution.running_count:
        return InfraStatus(InfraPhase.RUNNING)
    pending = [c.message for c in execution.conditions if c.message and c.state != _SUCCEEDED]
    return InfraStatus(InfraPhase.PENDING, reason="; ".join(pending) or None)


def condition_lines(execution: Any) -> list[str]:
    """What the execution's conditions say, one line each (for runs that never logged)."""
    lines = []
    for c in execution.conditions:
        state = type(c).State(c.state).name.removeprefix("CONDITION_").lower()
        lines.append(f"{c.type_}: {state}" + (f" - {c.message}" if c.message else ""))
    counts = (
        f"tasks: running={execution.running_count} succeeded={execution.succeeded_count} "
        f"failed={execution.failed_count} cancelled={execution.cancelled_count}"
    )
    return [*lines, counts]


def _failed_conditions(execution: Any) -> list[str]:
    return [
        f"{c.type_}: {c.message}" if c.message else f"{c.type_} failed"
        for c in execution.conditions
        if c.state == _FAILED
    ]


def _completed_reason(execution: Any) -> str | None:
    for c in execution.conditions:
        if c.type_ == "Completed" and c.execution_reason:
            return type(c).ExecutionReason(c.execution_reason).name
    return None


def _with_code(reason: str, exit_code: int | None) -> str:
    return reason if exit_code is None else f"container exited with code {exit_code}: {reason}"


def _looks_like_capacity(reason: str) -> bool:
    return any(word in reason.lower() for word in _CAPACITY_WORDS)
