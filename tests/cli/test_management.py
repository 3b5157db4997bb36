"""Managing what was created, through the installed `pushflow` against a real server:
deployments, their schedules, pools and runs, with `-o json` for scripts."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.shell import pushflow
from tests.helpers import LiveServer, wait_for


def _json(server: LiveServer, project: Path, *args: str) -> object:
    result = pushflow(server, project, *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_version_and_completion(server: LiveServer, project: Path) -> None:
    version = pushflow(server, project, "--version")
    assert version.returncode == 0 and version.stdout.startswith("pushflow ")
    helped = pushflow(server, project, "--help", env={"COLUMNS": "200"})
    assert "--install-completion" in helped.stdout and "Exit codes: 0 ok, 1" in helped.stdout
    # The shell is named: left to detection, Typer's shellingham walks the process tree,
    # which under pytest-xdist may hold no shell at all ("Shell  not supported").
    script = pushflow(server, project, "--show-completion", "bash")
    assert script.returncode == 0 and "_PUSHFLOW_COMPLETE" in script.stdout


def test_pool_create_help_offers_the_types_that_exist(server: LiveServer, project: Path) -> None:
    helped = pushflow(server, project, "pool", "create", "--help", env={"COLUMNS": "200"})
    assert "The pool type: process, ecs, cloud-run, aci or managed" in helped.stdout


def test_deployments_are_listed_inspected_paused_resumed_and_deleted(server: LiveServer, project: Path) -> None:
    deployed = pushflow(server, project, "deploy", "flows/etl.py:etl", "--name", "temp", "--pool", "local")
    assert deployed.returncode == 0, deployed.stderr
    listed = pushflow(server, project, "deployment", "ls")
    assert "etl/temp" in listed.stdout and "etl/nightly" in listed.stdout
    assert {d["name"] for d in _json(server, project, "deployment", "ls", "--flow", "etl")} >= {"temp", "nightly"}  # type: ignore[union-attr]
    inspected = json.loads(pushflow(server, project, "deployment", "inspect", "etl/temp").stdout)
    assert inspected["entrypoint"] == "flows/etl.py:etl" and inspected["paused"] is False
    paused = pushflow(server, project, "deployment", "pause", "etl/temp")
    assert paused.stdout.strip() == "Deployment etl/temp paused"
    assert json.loads(pushflow(server, project, "deployment", "inspect", inspected["id"]).stdout)["paused"] is True
    assert pushflow(server, project, "deployment", "resume", "etl/temp").stdout.strip() == "Deployment etl/temp resumed"
    deleted = pushflow(server, project, "deployment", "delete", "etl/temp", "--yes")
    assert deleted.returncode == 0 and deleted.stdout.strip() == "Deployed etl/temp".replace(
        "Deployed", "Deleted deployment"
    )
    assert pushflow(server, project, "deployment", "inspect", "etl/temp").returncode == 1


def test_schedules_are_added_paused_resumed_and_deleted(server: LiveServer, project: Path) -> None:
    pushflow(server, project, "deploy", "flows/etl.py:etl", "--name", "daily", "--pool", "local", "--cron", "0 9 * * *")
    [schedule] = _json(server, project, "deployment", "schedule", "ls", "etl/daily")  # type: ignore[misc]
    assert schedule["cron"] == "0 9 * * *" and schedule["active"] is True

    def upcoming() -> list[dict]:
        return _json(server, project, "runs", "ls", "--upcoming", "--deployment", "etl/daily")  # type: ignore[return-value]

    wait_for(lambda: len(upcoming()) > 0, what="the scheduler to make the daily runs ahead")
    prefix = schedule["id"][:8]
    paused = pushflow(server, project, "deployment", "schedule", "pause", "etl/daily", prefix)
    assert paused.returncode == 0, paused.stderr
    assert "paused; its runs made ahead were removed" in paused.stdout
    assert upcoming() == []
    assert pushflow(server, project, "deployment", "schedule", "resume", "etl/daily", prefix).returncode == 0
    wait_for(lambda: len(upcoming()) > 0, what="the resumed schedule to make its runs again")

    added = pushflow(server, project, "deployment", "schedule", "add", "etl/daily", "--interval", "3600")
    assert added.returncode == 0, added.stderr
    assert len(_json(server, project, "deployment", "schedule", "ls", "etl/daily")) == 2  # type: ignore[arg-type]
    deleted = pushflow(server, project, "deployment", "schedule", "delete", "etl/daily", prefix)
    assert deleted.returncode == 0, deleted.stderr
    [left] = _json(server, project, "deployment", "schedule", "ls", "etl/daily")  # type: ignore[misc]
    assert left["interval_seconds"] == 3600


def test_redeploying_without_a_schedule_clears_it(server: LiveServer, project: Path) -> None:
    pushflow(server, project, "deploy", "flows/etl.py:etl", "--name", "once", "--pool", "local", "--interval", "60")
    assert len(_json(server, project, "deployment", "schedule", "ls", "etl/once")) == 1  # type: ignore[arg-type]
    pushflow(server, project, "deploy", "flows/etl.py:etl", "--name", "once", "--pool", "local")
    assert _json(server, project, "deployment", "schedule", "ls", "etl/once") == []


def test_deploy_all_reads_pushflow_yaml(server: LiveServer, project: Path) -> None:
    (project / "pushflow.yaml").write_text(
        "deployments:\n"
        "  - name: morning\n"
        "    entrypoint: flows/etl.py:etl\n"
        "    pool: local\n"
        "    parameters: {n: 2}\n"
        "    schedules:\n"
        "      - cron: '0 9 * * 1-5'\n"
        "        timezone: Europe/Paris\n"
        "  - name: evening\n"
        "    entrypoint: flows/etl.py:etl\n"
        "    pool: local\n"
    )
    deployed = pushflow(server, project, "deploy", "--all")
    assert deployed.returncode == 0, deployed.stderr
    assert "Deployed etl/morning" in deployed.stdout and "Deployed etl/evening" in deployed.stdout
    morning = json.loads(pushflow(server, project, "deployment", "inspect", "etl/morning").stdout)
    assert morning["parameters"] == {"n": 2}
    assert [(s["cron"], s["timezone"]) for s in morning["schedules"]] == [("0 9 * * 1-5", "Europe/Paris")]
    (project / "pushflow.yaml").write_text(
        "deployments:\n  - name: x\n    entrypoint: flows/etl.py:etl\n    pol: local\n"
    )
    wrong = pushflow(server, project, "deploy", "--all")
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == "Error: pushflow.yaml, deployment x: unknown key `pol`; did you mean `pool`?"


def test_pools_are_updated_paused_resumed_and_deleted(server: LiveServer, project: Path) -> None:
    assert pushflow(server, project, "pool", "create", "spare", "--type", "process").returncode == 0
    updated = pushflow(server, project, "pool", "update", "spare", "--set", "env.MODE=test", "--concurrency-limit", "2")
    assert updated.returncode == 0, updated.stderr
    [spare] = [p for p in _json(server, project, "pool", "ls") if p["name"] == "spare"]  # type: ignore[union-attr]
    assert spare["defaults"] == {"env": {"MODE": "test"}} and spare["concurrency_limit"] == 2
    assert pushflow(server, project, "pool", "pause", "spare").stdout.strip() == "Pool spare paused"
    assert "│ spare" in pushflow(server, project, "pool", "ls").stdout
    assert json.loads(pushflow(server, project, "pool", "inspect", "spare").stdout)["paused"] is True
    assert pushflow(server, project, "pool", "resume", "spare").stdout.strip() == "Pool spare resumed"
    cleared = pushflow(server, project, "pool", "update", "spare", "--unset", "env", "--no-limit")
    assert cleared.returncode == 0, cleared.stderr
    assert json.loads(pushflow(server, project, "pool", "inspect", "spare").stdout)["defaults"] == {}
    assert pushflow(server, project, "pool", "delete", "spare", "--yes").stdout.strip() == "Deleted pool spare"


def test_runs_are_named_by_name_or_id_prefix_and_listed_by_expected_start(server: LiveServer, project: Path) -> None:
    created = pushflow(server, project, "run", "etl/nightly", "--param", "n=2", "--watch")
    assert created.returncode == 0, created.stdout + created.stderr
    run_id = created.stdout.split("(", 1)[1].split(")", 1)[0]
    run_name = created.stdout.split("flow run ", 1)[1].split(" ", 1)[0]
    for ref in (run_name, run_id[:8], run_id):
        shown = json.loads(pushflow(server, project, "runs", "inspect", ref, "-o", "json").stdout)
        assert shown["id"] == run_id and [t["name"] for t in shown["task_runs"]][:1] == ["extract-0"]
    listed = pushflow(server, project, "runs", "ls", "--state", "completed")
    assert "expected start" in listed.stdout and run_id in listed.stdout
    assert all(r["state"]["type"] == "COMPLETED" for r in _json(server, project, "runs", "ls", "--state", "Completed"))  # type: ignore[union-attr]
    logs = pushflow(server, project, "runs", "logs", run_name)
    assert "| INFO    | load-0 - loaded 2 rows" in logs.stdout


def test_a_failed_task_shows_its_traceback_once_without_engine_frames(server: LiveServer, project: Path) -> None:
    (project / "flows" / "task_fail.py").write_text(
        "from runtime import flow, task\n\n\n"
        "@task\ndef load(n: int) -> int:\n    raise RuntimeError('disk full')\n\n\n"
        "@flow\ndef pipeline(n: int = 2) -> int:\n    return load(n)\n"
    )
    pushflow(server, project, "deploy", "flows/task_fail.py:pipeline", "--name", "x", "--pool", "local")
    watched = pushflow(server, project, "run", "pipeline/x", "--watch")
    assert watched.returncode == 1
    out = watched.stdout
    assert out.count("Traceback (most recent call last):") == 1
    assert out.splitlines().count("RuntimeError: disk full") == 1
    assert "| ERROR   | load-0 - Task run failed:" in out
    assert "Flow run failed: RuntimeError: disk full (traceback above)" in out
    assert "runtime/engine.py" not in out and "runtime/attempts.py" not in out
    assert 'task_fail.py", line 6, in load' in out
    run_name = out.split("flow run ", 1)[1].split(" ", 1)[0]
    logs = pushflow(server, project, "runs", "logs", run_name).stdout
    assert logs.count("Traceback (most recent call last):") == 1 and "| ERROR   | load-0 - Task run failed:" in logs
    assert "runtime/engine.py" not in logs
