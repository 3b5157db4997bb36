"""A container group's instance view, read as an InfraStatus (facts, not run states)."""

from __future__ import annotations

from typing import Any

from push_pools.base import InfraPhase, InfraStatus

# Waiting reasons that will not fix themselves with restart policy Never.
_PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff", "InaccessibleImage", "InvalidImageName")
_CAPACITY_WORDS = ("capacity", "quota", "ResourceUnavailable", "not available")


def status_of(group: Any, container_name: str) -> InfraStatus:
    name = group.name
    container = next((c for c in group.containers if c.name == container_name), None) or (
        group.containers[0] if group.containers else None
    )
    view = getattr(container, "instance_view", None)
    current = getattr(view, "current_state", None)
    events = [e.message for e in (getattr(view, "events", None) or []) if getattr(e, "message", None)]
    detail = getattr(current, "detail_status", None) or ""
    group_state = getattr(group.instance_view, "state", None) if group.instance_view else None

    if container is not None and current is not None and current.state == "Terminated":
        code = current.exit_code
        how = f" ({detail})" if detail else ""
        return InfraStatus(
            InfraPhase.EXITED,
            exit_code=code,
            reason=f"container {container.name!r} in group {name} terminated with exit code {code}{how}",
        )
    pull_failed = detail in _PULL_FAILURES or any("pull" in e.lower() for e in events)
    if group.provisioning_state == "Failed" or pull_failed:
        because = "; ".join(filter(None, [detail, *events])) or "no reason given by Azure"
        what = "could not pull its image" if pull_failed else "failed to provision"
        hint = ": check `image` and `image_registry_credentials`" if pull_failed else ""
        return InfraStatus(
            InfraPhase.EXITED,
            reason=f"container group {name} {what} ({because}){hint}",
            retryable=any(w.lower() in because.lower() for w in _CAPACITY_WORDS),
        )
    if group_state == "Stopped":
        return InfraStatus(InfraPhase.EXITED, reason=f"container group {name} was stopped")
    if current is not None and current.state == "Running":
        return InfraStatus(InfraPhase.RUNNING)
    waiting = f": {detail}" if detail else ""
    return InfraStatus(InfraPhase.PENDING, reason=f"container group {name} is {group_state or 'pending'}{waiting}")
