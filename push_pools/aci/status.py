"""A container group's instance view, read as an InfraStatus (facts, not run states).

Events are read the way ACI reports them ("Retrieve container logs and events",
https://learn.microsoft.com/azure/container-instances/container-instances-get-logs): a
healthy container shows `Pulling` ("pulling image ...") and `Pulled` ("Successfully pulled
image ...") events, then `Created` and `Started`, so the word "pull" alone says nothing. A
failed pull is a `Failed` or `BackOff` event, or a container Waiting with ErrImagePull or
ImagePullBackOff ("Troubleshoot common issues: Unable to pull image",
https://learn.microsoft.com/azure/container-instances/container-instances-troubleshooting).
"""

from __future__ import annotations

from typing import Any

from push_pools.base import InfraPhase, InfraStatus

# Waiting reasons that will not fix themselves with restart policy Never.
_PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff", "InaccessibleImage", "InvalidImageName")
_FAILURE_EVENTS = ("Failed", "BackOff")
_CAPACITY_WORDS = ("capacity", "quota", "ResourceUnavailable", "not available")


def status_of(group: Any, container_name: str) -> InfraStatus:
    name = group.name
    container = next((c for c in group.containers if c.name == container_name), None) or (
        group.containers[0] if group.containers else None
    )
    view = getattr(container, "instance_view", None)
    current = getattr(view, "current_state", None)
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
    if current is not None and current.state == "Running":
        return InfraStatus(InfraPhase.RUNNING)
    failures = [
        e.message or e.name
        for e in (getattr(view, "events", None) or [])
        if getattr(e, "name", None) in _FAILURE_EVENTS
    ]
    pull_failed = detail in _PULL_FAILURES or any("pull" in (m or "").lower() for m in failures)
    if group.provisioning_state == "Failed" or pull_failed or failures:
        because = "; ".join(dict.fromkeys(filter(None, [detail, *failures]))) or "no reason given by Azure"
        if pull_failed:
            image = getattr(container, "image", None) or "?"
            what = f"could not pull its image {image!r}"
            hint = ": check `image` and `image_registry_credentials`"
        else:
            what, hint = "failed to provision", ""
        return InfraStatus(
            InfraPhase.EXITED,
            reason=f"container group {name} {what} ({because}){hint}",
            retryable=any(w.lower() in because.lower() for w in _CAPACITY_WORDS),
        )
    if group_state == "Stopped":
        return InfraStatus(InfraPhase.EXITED, reason=f"container group {name} was stopped")
    waiting = f": {detail}" if detail else ""
    return InfraStatus(InfraPhase.PENDING, reason=f"container group {name} is {group_state or 'pending'}{waiting}")
