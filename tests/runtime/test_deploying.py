"""Deploying from Python: flow.deploy / to_deployment / from_source / serve, and a Prefect
Core graph with a schedule (run locally on its schedule, or registered with the server)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from pushflow import Flow, Parameter, flow, task
from pushflow.schedules import CronSchedule, IntervalSchedule
from runtime.deploying import DeployError, RunnerDeployment
from tests.helpers import LiveServer, final, trigger

SCRIPT = """
from pushflow import flow


@flow(log_prints=True)
def greet(name: str = "world") -> str:
    print(f"hello {name}")
    return name


if __name__ == "__main__":
    greet.deploy(name="from-python", pool="local", parameters={"name": "ada"}, interval=3600)
"""


def env_for(server: LiveServer) -> dict[str, str]:
    return {**os.environ, "PUSHFLOW_API_URL": server.url, "PUSHFLOW_API_KEY": str(server.api_key)}


def test_flow_deploy_from_a_script_registers_a_runnable_deployment(live_server: LiveServer, tmp_path: Path) -> None:
    script = tmp_path / "greet.py"
    script.write_text(textwrap.dedent(SCRIPT))
    done = subprocess.run(
        [sys.executable, str(script)], env=env_for(live_server), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Deployed greet/from-python" in done.stderr
    with live_server.client() as api:
        deployment = api.get("/api/deployments/by-name/greet/from-python").json()
        assert (deployment["entrypoint"], deployment["working_dir"]) == ("greet.py:greet", str(tmp_path))
        assert [s["interval_seconds"] for s in deployment["schedules"]] == [3600]
        run = final(api, trigger(api, deployment))
        assert run["state"]["type"] == "COMPLETED", run["state"]
        logs = [line["message"] for line in api.get(f"/api/flow-runs/{run['id']}/logs").json()]
        assert "hello ada" in logs


@flow
def module_level(x: int = 1) -> int:
    return x


def test_to_deployment_finds_the_module_level_name_and_needs_a_pool() -> None:
    deployment = module_level.to_deployment("d", cron="0 9 * * *", timezone="Europe/Paris")
    assert deployment.entrypoint == "test_deploying.py:module_level"
    assert deployment.working_dir == str(Path(__file__).parent)
    assert deployment.schedules == [{"cron": "0 9 * * *", "timezone": "Europe/Paris"}]
    assert deployment.parameter_schema["properties"]["x"]["default"] == 1
    with pytest.raises(DeployError, match="needs a pool"):
        deployment.body()
    with pytest.raises(DeployError, match="give one schedule, not cron and interval"):
        module_level.to_deployment("d", cron="* * * * *", interval=5)

    @flow
    def local_only() -> None:
        pass

    with pytest.raises(DeployError, match="define it at the top level of a .py file"):
        local_only.to_deployment("d")


def test_from_source_loads_a_flow_from_a_folder_and_deploys_pointing_there(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "greet.py").write_text(textwrap.dedent(SCRIPT))
    loaded = flow.from_source(str(tmp_path), "greet.py:greet")
    assert loaded("here") == "here"
    for key, value in env_for(live_server).items():
        monkeypatch.setenv(key, value)
    deployment_id = loaded.deploy(name="from-source", pool="local")
    with live_server.client() as api:
        deployment = api.get(f"/api/deployments/{deployment_id}").json()
        assert (deployment["entrypoint"], deployment["working_dir"]) == ("greet.py:greet", str(tmp_path))
        run = final(api, trigger(api, deployment, name="source"))
        assert run["state"]["type"] == "COMPLETED"
    with pytest.raises(DeployError, match="is not a folder"):
        flow.from_source(str(tmp_path / "nope"), "greet.py:greet")


def test_serve_without_a_server_starts_nothing_and_says_so(tmp_path: Path) -> None:
    script = tmp_path / "serve_me.py"
    script.write_text(SCRIPT.split("if __name__")[0] + 'if __name__ == "__main__":\n    greet.serve()\n')
    env = {**os.environ, "PUSHFLOW_API_URL": "http://127.0.0.1:9/api", "PUSHFLOW_API_KEY": "k"}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "no pushflow server answers at http://127.0.0.1:9/api" in done.stderr
    assert "nothing was started" in done.stderr


def test_serve_registers_on_a_serve_pool_and_its_runs_run(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtime.deploying import serve

    for key, value in env_for(live_server).items():
        monkeypatch.setenv(key, value)
    deployment_id = serve(module_level.to_deployment("served"), block=False)
    assert deployment_id is not None
    with live_server.client() as api:
        deployment = api.get(f"/api/deployments/{deployment_id}").json()
        assert deployment["pool"] == "serve"
        assert final(api, trigger(api, deployment, x=4))["state"]["type"] == "COMPLETED"


@task
def add(x: int, y: int) -> int:
    return x + y


def test_a_graph_with_an_interval_schedule_runs_at_each_scheduled_time() -> None:
    start = datetime.now(timezone.utc) + timedelta(seconds=0.2)
    schedule = IntervalSchedule(
        interval=timedelta(seconds=0.3), start_date=start, end_date=start + timedelta(seconds=0.7)
    )
    with Flow("ticker", schedule=schedule) as ticker:
        add(Parameter("x", default=1), 2)

    runs: list[datetime] = []
    ticker.on_completion.append(lambda fl, run, state: runs.append(datetime.now(timezone.utc)))
    state = ticker.run()
    assert state.is_successful()
    assert len(runs) == 3  # start, +0.3 s, +0.6 s; then the schedule ends
    assert all(ran >= start + timedelta(seconds=0.3 * i) for i, ran in enumerate(runs))


def test_a_cron_schedule_lists_its_next_times_in_its_time_zone() -> None:
    schedule = CronSchedule("0 9 * * *", timezone="Europe/Paris")
    after = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    assert schedule.next(2, after=after) == [
        datetime(2026, 12, 2, 8, tzinfo=timezone.utc),
        datetime(2026, 12, 3, 8, tzinfo=timezone.utc),
    ]
    with pytest.raises(ValueError, match="not a valid cron expression"):
        CronSchedule("61 * * * *")


with Flow("nightly-graph", schedule=CronSchedule("0 2 * * *")) as nightly_graph:
    add(Parameter("x", default=1), 2)


def test_a_registered_graph_carries_its_schedule_and_runs(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env_for(live_server).items():
        monkeypatch.setenv(key, value)
    deployment_id = nightly_graph.register("nightly", pool="local")
    with live_server.client() as api:
        deployment = api.get(f"/api/deployments/{deployment_id}").json()
        assert deployment["name"] == "nightly" and deployment["entrypoint"] == "test_deploying.py:nightly_graph"
        assert [(s["cron"], s["timezone"]) for s in deployment["schedules"]] == [("0 2 * * *", "UTC")]
        run = final(api, trigger(api, deployment, x=5))
        assert run["state"]["type"] == "COMPLETED", run["state"]
        assert [t["name"] for t in api.get(f"/api/flow-runs/{run['id']}/task-runs").json()] == ["add-0"]


def test_runner_deployment_body_is_what_the_api_takes() -> None:
    body = RunnerDeployment.from_flow(module_level, "d", pool="local", image="repo/img:1").body()
    assert body["job_variables"] == {"image": "repo/img:1"}
    assert {"name", "flow_name", "entrypoint", "working_dir", "pool", "parameter_schema"} <= set(body)
    assert httpx is not None


def test_from_source_clones_a_git_repository_and_its_runs_fetch_the_commit(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "greet.py").write_text(textwrap.dedent(SCRIPT))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    for command in (["init", "-q"], ["add", "greet.py"], ["commit", "-qm", "flows"]):
        subprocess.run([*git, *command], cwd=work, check=True, capture_output=True)
    subprocess.run([*git, "clone", "-q", "--bare", str(work), str(tmp_path / "repo.git")], check=True)
    monkeypatch.setenv("PUSHFLOW_HOME", str(tmp_path / "home"))

    loaded = flow.from_source(f"file://{tmp_path / 'repo.git'}", "greet.py:greet")
    assert loaded("git") == "git"
    entrypoint, folder, url = loaded._source
    assert entrypoint == "greet.py:greet" and folder.startswith(str(tmp_path / "home" / "sources"))
    assert url == f"file://{tmp_path / 'repo.git'}"

    for key, value in env_for(live_server).items():
        monkeypatch.setenv(key, value)
    deployment_id = loaded.deploy(name="from-git", pool="local")
    with live_server.client() as api:
        deployment = api.get(f"/api/deployments/{deployment_id}").json()
        assert deployment["source"]["type"] == "git" and deployment["source"]["url"] == url
        run = final(api, trigger(api, deployment, name="cloned"))
        assert run["state"]["type"] == "COMPLETED", run["state"]
        logs = [line["message"] for line in api.get(f"/api/flow-runs/{run['id']}/logs").json()]
        assert "hello cloned" in logs


def test_serve_blocks_and_prints_each_run_as_it_ends(live_server: LiveServer, tmp_path: Path) -> None:
    import signal

    from tests.helpers import wait_for

    script = tmp_path / "served.py"
    script.write_text(SCRIPT.split("if __name__")[0] + 'if __name__ == "__main__":\n    greet.serve(name="loop")\n')
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        # Ctrl-C as in a terminal: a pytest-xdist worker ignores SIGINT, and an ignored signal
        # stays ignored across exec (Python then installs no KeyboardInterrupt handler).
        restore = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
        process = subprocess.Popen(
            [sys.executable, str(script)], env=env_for(live_server), stderr=out, preexec_fn=restore
        )
    try:
        with live_server.client() as api:

            def deployed() -> dict | None:
                response = api.get("/api/deployments/by-name/greet/loop")
                return response.json() if response.status_code == 200 else None

            deployment = wait_for(deployed, timeout=60, what="serve() to register greet/loop")
            run = final(api, trigger(api, deployment, name="served"))
            assert run["state"]["type"] == "COMPLETED"
        wait_for(lambda: f"Flow run '{run['name']}' - Finished in state Completed" in log.read_text(), timeout=30)
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
        assert "Stopped serving" in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
