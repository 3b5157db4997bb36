"""`pushflow.yaml`: several deployments declared in one file, deployed by `pushflow
deploy --all` (as Prefect users keep `prefect.yaml`). Entrypoints are relative to the
file's folder. Example:

    deployments:
      - name: nightly
        entrypoint: flows/etl.py:etl
        pool: local
        parameters: {n: 3}
        schedules:
          - cron: "0 9 * * 1-5"
            timezone: Europe/Paris
      - name: hourly
        entrypoint: flows/etl.py:etl
        pool: local
        source: local       # bundle, git, image or local (default: per pool type)
        schedules: [{interval: 3600}]
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pushflow_cli.console import fail
from pushflow_cli.deploy_triggers import check_triggers

KEYS = ("name", "entrypoint", "pool", "parameters", "job_variables", "description", "schedules", "source", "triggers")
SCHEDULE_KEYS = {"cron": "cron", "interval": "interval_seconds", "rrule": "rrule", "timezone": "timezone"}
SCHEDULE_KEYS |= {"catchup": "catchup", "active": "active", "anchor": "anchor"}


def read_deploy_file(path: Path) -> list[dict[str, Any]]:
    """Each deployment of the file as keyword arguments for `deploy.upsert`."""
    import yaml

    if not path.is_file():
        raise fail(f"{path} not found; write one (see `pushflow deploy --help`) or run from its folder")
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise fail(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    entries = document.get("deployments") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise fail(f"{path} has no `deployments:` list; give one entry per deployment")
    return [_entry(path, i, entry) for i, entry in enumerate(entries, 1)]


def _entry(path: Path, index: int, entry: Any) -> dict[str, Any]:
    where = f"{path}, deployment {index}"
    if not isinstance(entry, dict):
        raise fail(f"{where}: expected a mapping of {', '.join(KEYS)}")
    where = f"{path}, deployment {entry.get('name') or index}"
    _known(where, entry, KEYS)
    missing = [k for k in ("name", "entrypoint", "pool") if not entry.get(k)]
    if missing:
        raise fail(f"{where}: `{missing[0]}` is required")
    schedules = []
    for schedule in entry.get("schedules") or []:
        if not isinstance(schedule, dict):
            raise fail(f"{where}: each schedule is a mapping with cron, interval or rrule")
        _known(where, schedule, tuple(SCHEDULE_KEYS))
        schedules.append({SCHEDULE_KEYS[k]: v for k, v in schedule.items()})
    return {
        "entrypoint": str(entry["entrypoint"]),
        "name": str(entry["name"]),
        "pool": str(entry["pool"]),
        "parameters": entry.get("parameters") or {},
        "job_variables": entry.get("job_variables") or {},
        "description": entry.get("description"),
        "schedules": schedules,
        "base_dir": path.resolve().parent,
        "source_options": {"kind": entry.get("source")},
        "triggers": check_triggers(where, entry.get("triggers")),  # deploy_triggers.py
    }


def _known(where: str, mapping: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in mapping:
        if key not in keys:
            close = difflib.get_close_matches(str(key), keys, n=1)
            hint = f"did you mean `{close[0]}`?" if close else f"use {', '.join(keys)}"
            raise fail(f"{where}: unknown key `{key}`; {hint}")
