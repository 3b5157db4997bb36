"""An ECS task (as `describe_tasks` returns it) read as an `InfraStatus`, with the
provider's own words for why it ended."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from push_pools.base import InfraPhase, InfraStatus

CONTAINER_NAME = "pushflow"

_NOT_STARTED = frozenset({"PROVISIONING", "PENDING", "ACTIVATING"})
_ENDED = frozenset({"STOPPED", "DELETED"})
# Stop codes that say AWS took the capacity away, not that the run failed.
_RECLAIMED = {
    "SpotInterruption": "Fargate Spot capacity was reclaimed (SpotInterruption)",
    "TerminationNotice": "the task's host is being terminated (TerminationNotice)",
}
_CAPACITY_WORDS = (
    "capacity is unavailable",
    "insufficient",
    "resource:",
    "no container instances",
    "capacity provider",
)


def task_status(task: Mapping[str, Any]) -> InfraStatus:
    last = task.get("lastStatus", "")
    if last not in _ENDED:
        never_ran = last in _NOT_STARTED or task.get("stopCode") == "TaskFailedToStart"
        return InfraStatus(InfraPhase.PENDING if never_ran else InfraPhase.RUNNING)
    container = main_container(task)
    exit_code = container.get("exitCode")
    reason, retryable = describe_stop(task, container, exit_code)
    return InfraStatus(InfraPhase.EXITED, exit_code=exit_code, reason=reason, retryable=retryable)


def main_container(task: Mapping[str, Any]) -> Mapping[str, Any]:
    containers = task.get("containers") or [{}]
    return next((c for c in containers if c.get("name") == CONTAINER_NAME), containers[0])


def describe_stop(task: Mapping[str, Any], container: Mapping[str, Any], exit_code: int | None) -> tuple[str, bool]:
    """(reason, retryable) for a stopped task."""
    stop_code = task.get("stopCode", "")
    stopped = task.get("stoppedReason", "") or ""
    detail = container.get("reason", "") or ""
    if stop_code in _RECLAIMED:
        return f"{_RECLAIMED[stop_code]}: {stopped or 'no reason given'}", True
    if stop_code == "TaskFailedToStart" or (exit_code is None and stop_code != "UserInitiated"):
        return _failed_to_start(stopped or detail), _is_capacity(stopped)
    if exit_code == 137 or "OutOfMemory" in detail:
        memory = task.get("memory")
        more = f" (task memory {memory} MiB)" if memory else ""
        return (
            f"container ran out of memory (OutOfMemoryError, exit code {exit_code}){more}: "
            "raise the job variable `memory`"
        ), False
    if stop_code == "UserInitiated":
        code = f", exit code {exit_code}" if exit_code is not None else ""
        return f"task stopped: {stopped or 'by request'}{code}", False
    text = f"container exited with code {exit_code}"
    return (f"{text}: {detail}" if detail else text), False


def _failed_to_start(reason: str) -> str:
    if "CannotPullContainer" in reason:
        return (
            f"task failed to start (TaskFailedToStart): the image could not be pulled: {reason}. "
            "Check the image name and that the execution role may pull it"
        )
    if "ResourceInitializationError" in reason:
        return (
            f"task failed to start (TaskFailedToStart): {reason}. Check the execution role "
            "(secrets, logs), the log group and the subnets' route to AWS"
        )
    return f"task failed to start (TaskFailedToStart): {reason or 'no reason given'}"


def _is_capacity(reason: str) -> bool:
    lowered = reason.lower()
    return any(word in lowered for word in _CAPACITY_WORDS)


def describe_failures(failures: list[Mapping[str, Any]]) -> tuple[str, bool]:
    """run_task's `failures` as (message, is_capacity)."""
    parts = [f"{f.get('reason', '?')}" + (f" ({f['detail']})" if f.get("detail") else "") for f in failures]
    text = "; ".join(parts) or "no task started and AWS gave no reason"
    return text, _is_capacity(text) or any(f.get("reason") == "AGENT" for f in failures)
