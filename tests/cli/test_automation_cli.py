"""`pushflow automation ...`, `pushflow webhook ...` and `triggers:` in pushflow.yaml,
through the installed console script against a real server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.shell import pushflow
from tests.helpers import LiveServer, wait_for

AUTOMATION = """
name: nightly-on-landing
trigger:
  expect: [acme.file.landed]
actions:
  - type: run-deployment
    deployment: etl/nightly
    parameters: {n: "{{ event.payload.rows }}"}
"""


def test_automation_create_ls_pause_resume_firings_delete(server: LiveServer, project: Path) -> None:
    (project / "automation.yaml").write_text(AUTOMATION)
    created = pushflow(server, project, "automation", "create", "-f", "automation.yaml")
    assert created.returncode == 0, created.stderr
    assert "nightly-on-landing" in pushflow(server, project, "automation", "ls").stdout
    listed = json.loads(pushflow(server, project, "automation", "ls", "-o", "json").stdout)
    assert [a["enabled"] for a in listed if a["name"] == "nightly-on-landing"] == [True]
    assert pushflow(server, project, "automation", "pause", "nightly-on-landing").returncode == 0
    assert pushflow(server, project, "automation", "resume", "nightly-on-landing").returncode == 0
    api = server.client()
    event = {"event": "acme.file.landed", "resource": {"id": "acme.bucket.in"}, "payload": {"rows": 2}}
    api.post("/api/events", json=event).raise_for_status()
    wait_for(
        lambda: (
            "run-deployment: succeeded"
            in pushflow(server, project, "automation", "firings", "nightly-on-landing").stdout
        ),
        what="the firing",
    )
    deleted = pushflow(server, project, "automation", "delete", "nightly-on-landing")
    assert deleted.returncode == 0
    missing = pushflow(server, project, "automation", "inspect", "nightly-on-landing")
    assert missing.returncode == 1 and "not found" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1


def test_a_bad_automation_file_is_one_line_and_exit_1(server: LiveServer, project: Path) -> None:
    (project / "bad.yaml").write_text("name: x\ntrigger: {posture: proactive}\nactions: [{type: pause-pool}]\n")
    bad = pushflow(server, project, "automation", "create", "-f", "bad.yaml")
    assert bad.returncode == 1 and "within" in bad.stderr
    absent = pushflow(server, project, "automation", "create", "-f", "nope.yaml")
    assert absent.returncode == 1 and "not found" in absent.stderr


def test_webhook_create_rotate_delete(server: LiveServer, project: Path) -> None:
    created = pushflow(server, project, "webhook", "create", "files", "--signature", "standard-webhooks")
    assert created.returncode == 0, created.stderr
    assert "/hooks/" in created.stdout and "whsec_" in created.stdout
    [hook] = json.loads(pushflow(server, project, "webhook", "ls", "-o", "json").stdout)
    rotated = pushflow(server, project, "webhook", "rotate-url", "files")
    assert rotated.returncode == 0 and hook["path"] not in rotated.stdout
    assert pushflow(server, project, "webhook", "delete", "files").returncode == 0
    assert pushflow(server, project, "webhook", "inspect", "files").returncode == 1


def test_pushflow_yaml_triggers_become_automations_that_run_the_deployment(server: LiveServer, project: Path) -> None:
    (project / "pushflow.yaml").write_text(
        """
deployments:
  - name: on-event
    entrypoint: flows/etl.py:etl
    pool: local
    triggers:
      - expect: [acme.batch.ready]
        parameters: {n: "{{ event.payload.n }}"}
"""
    )
    deployed = pushflow(server, project, "deploy", "--all")
    assert deployed.returncode == 0, deployed.stderr
    api = server.client()
    [automation] = [a for a in api.get("/api/automations").json() if a["name"] == "deploy-etl-on-event-1"]
    event = {"event": "acme.batch.ready", "resource": {"id": "acme.batch.1"}, "payload": {"n": 5}}
    api.post("/api/events", json=event).raise_for_status()
    deployment = api.get("/api/deployments/by-name/etl/on-event").json()

    def run() -> list[dict]:
        items = api.get("/api/flow-runs", params={"limit": 100}).json()["items"]
        return [r for r in items if r["deployment_id"] == deployment["id"]]

    [started] = wait_for(run, what="the triggered run")
    assert started["parameters"] == {"n": 5}
    # Declared with the file: deploying it without triggers removes the automation.
    (project / "pushflow.yaml").write_text(
        "deployments:\n  - {name: on-event, entrypoint: flows/etl.py:etl, pool: local}\n"
    )
    assert pushflow(server, project, "deploy", "--all").returncode == 0
    assert automation["name"] not in [a["name"] for a in api.get("/api/automations").json()]
