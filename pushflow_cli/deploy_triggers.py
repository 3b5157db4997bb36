"""`deployments[].triggers` in pushflow.yaml: each trigger becomes an automation that runs
the deployment (`run-deployment`) with the trigger's `parameters` (templates seeing the
event). They are named `deploy-<flow>-<deployment>-<n>` and declared with the file:
`deploy --all` replaces them (their trigger state starts afresh) and removes those no
longer listed. Example:

    deployments:
      - name: ingest
        entrypoint: flows/ingest.py:ingest
        pool: local
        triggers:
          - expect: [acme.file.landed]
            match: {env: prod}
            parameters: {key: "{{ event.payload.key }}"}
"""

from __future__ import annotations

import re
from typing import Any

from pushflow_cli.console import console, fail

ACTION_KEYS = ("parameters", "job_variables", "enabled")


def automation_prefix(flow_name: str, name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"deploy-{flow_name}-{name}-")


def check_triggers(where: str, triggers: Any) -> list[dict[str, Any]]:
    if triggers is None:
        return []
    if not isinstance(triggers, list) or not all(isinstance(t, dict) for t in triggers):
        raise fail(f"{where}: `triggers` is a list of mappings (expect, match, within, ..., parameters)")
    return triggers


def sync_triggers(api: Any, deployment: dict[str, Any], triggers: list[dict[str, Any]]) -> None:
    prefix = automation_prefix(deployment["flow_name"], deployment["name"])
    for existing in api.request("GET", "/automations"):
        if existing["name"].startswith(prefix):
            api.request("DELETE", f"/automations/{existing['id']}")
    for n, entry in enumerate(triggers, 1):
        trigger = {k: v for k, v in entry.items() if k not in ACTION_KEYS}
        action = {
            "type": "run-deployment",
            "deployment": deployment["id"],
            "parameters": entry.get("parameters") or {},
            "job_variables": entry.get("job_variables") or {},
        }
        api.request(
            "POST",
            "/automations",
            json={
                "name": f"{prefix}{n}",
                "description": f"pushflow.yaml trigger {n} of {deployment['flow_name']}/{deployment['name']}",
                "trigger": trigger,
                "actions": [action],
                "enabled": entry.get("enabled", True),
            },
        )
    if triggers:
        console.print(f"Triggers: {len(triggers)} automation(s) {prefix}1..{len(triggers)}")
