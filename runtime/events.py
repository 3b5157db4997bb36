"""`emit_event`: send a custom event from a flow (or any script) to the control plane,
where automations can react to it.

Kept light for the container: the standard library's urllib, imported on first use.
Inside a deployed run it authenticates with the run's token (`PUSHFLOW_RUN_TOKEN`) and
the run is added as a related resource; elsewhere with `PUSHFLOW_API_KEY` (or the local
server's saved key). With neither, as in a flow called locally with no server, nothing
is sent.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any

from runtime import config
from runtime.context import current_flow_run
from runtime.errors import APIError


def emit_event(
    event: str,
    resource: dict[str, str],
    *,
    related: list[dict[str, str]] | None = None,
    payload: dict[str, Any] | None = None,
    occurred: datetime | None = None,
) -> bool:
    """Send `event` about `resource` (`{"id": ..., other keys are labels}`); True if the
    control plane accepted it, False if there was no API to send it to. Raises APIError
    when the control plane refuses it (its explanation included)."""
    token = os.environ.get("PUSHFLOW_RUN_TOKEN") or config.api_key()
    if not token:
        return False
    resource = dict(resource)
    if "id" not in resource:
        raise ValueError("resource needs an 'id', e.g. {'id': 'acme.file.landing/report.csv'}")
    related = list(related or [])
    run = current_flow_run()
    if run is not None and run.record is not None:
        related.append({"id": f"pushflow.flow-run.{run.flow_run_id}", "role": "flow-run"})
    body = {
        "event": event,
        "resource": {"id": resource.pop("id"), "labels": {k: str(v) for k, v in resource.items()}},
        "related": related,
        "payload": payload or {},
        "occurred": (occurred or datetime.now(timezone.utc)).isoformat(),
    }
    _post(f"{config.api_url().rstrip('/')}/events", token, body)
    return True


def _post(url: str, token: str, body: dict[str, Any]) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url,
        data=json.dumps(body, default=str).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10):
            return
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read() or b"{}").get("detail") or exc.reason
        except ValueError:
            detail = exc.reason
        raise APIError(f"event {body['event']!r} refused ({exc.code}): {detail}", exc.code) from exc
    except OSError as exc:
        raise APIError(f"cannot reach the pushflow API at {url}: {exc}") from exc
