"""Code that travels with the deployment, end to end on the ECS pool: the deployer's
project folder is deleted before the run, and the container (moto + the container
simulator) starts in a fresh, empty working directory. The run gets its code from the
bundle store or from git, installs its requirements, and completes."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import cli, provision_pool
from tests.emulators.ecs import EcsEmulator
from tests.helpers import LiveServer, final, trigger
from tools.wheels import build_wheel

FLOW = textwrap.dedent(
    """
    from pathlib import Path

    from helper import greeting
    from runtime import flow


    @flow(log_prints=True)
    def travelling(name: str = "world") -> str:
        print(greeting(name))
        print(f"secret shipped: {Path('secret.txt').exists()}; data shipped: {Path('data').exists()}")
        return greeting(name)
    """
)


@pytest.fixture(scope="module")
def file_system(ecs_emulator: EcsEmulator) -> str:
    """An EFS file system (in moto) for the requirements cache, as an operator makes one."""
    return str(ecs_emulator.client("efs").create_file_system(CreationToken="pushflow-deps")["FileSystemId"])


@pytest.fixture(scope="module")
def deps_cache(ecs_emulator: EcsEmulator, file_system: str) -> Path:
    """The host folder the emulator mounts for that file system in every task."""
    return ecs_emulator.simulator.log_dir / "efs" / file_system


@pytest.fixture(scope="module")
def pool(ecs_server: LiveServer, file_system: str) -> str:
    provision_pool(
        ecs_server, "travel", "ecs", "image=pushflow/runtime:test", f"deps_cache.file_system_id={file_system}"
    )
    return "travel"


def write_project(root: Path, *, greeting: str = "hello", requirements: str | None = None) -> Path:
    root.mkdir(parents=True)
    (root / "flows.py").write_text(FLOW)
    (root / "helper.py").write_text(f"def greeting(name):\n    return f'{greeting}, {{name}}'\n")
    (root / "secret.txt").write_text("not for the bundle")
    (root / ".gitignore").write_text("secret.txt\n")
    (root / "data").mkdir()
    (root / "data" / "big.csv").write_text("a,b\n" * 1000)
    (root / ".pushflowignore").write_text("data/\n")
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
    return root


def deploy(ecs_server: LiveServer, project: Path, pool: str, *extra: str, name: str = "travel") -> tuple[dict, str]:
    done = cli(ecs_server, "deploy", "flows.py:travelling", "--name", name, "--pool", pool, *extra, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    deployment = ecs_server.client().get(f"/api/deployments/by-name/travelling/{name}").json()
    return deployment, done.stdout


def logs_of(ecs_server: LiveServer, run: dict[str, Any]) -> str:
    entries = ecs_server.client().get(f"/api/flow-runs/{run['id']}/logs").json()
    return "\n".join(e["message"] for e in entries)


def test_a_bundle_runs_after_the_project_folder_is_gone(ecs_server: LiveServer, pool: str, tmp_path: Path) -> None:
    project = write_project(tmp_path / "project")
    deployment, shown = deploy(ecs_server, project, pool, "--source", "bundle")
    assert "uploaded bundle" in shown
    source = deployment["source"]
    assert source["type"] == "bundle" and len(source["sha256"]) == 64
    # the same code again: same hash, nothing uploaded
    again, shown = deploy(ecs_server, project, pool, "--source", "bundle")
    assert "unchanged, nothing uploaded" in shown
    assert again["source"]["sha256"] == source["sha256"]
    shutil.rmtree(project)

    api = ecs_server.client()
    done = final(api, trigger(api, deployment, name="bundle"))
    assert done["state"]["type"] == "COMPLETED", done["state"]
    logs = logs_of(ecs_server, done)
    assert "hello, bundle" in logs
    assert "secret shipped: False; data shipped: False" in logs  # .gitignore and .pushflowignore held


def test_the_default_source_on_a_cloud_pool_is_a_bundle(ecs_server: LiveServer, pool: str, tmp_path: Path) -> None:
    deployment, _ = deploy(ecs_server, write_project(tmp_path / "project"), pool, name="default")
    assert deployment["source"]["type"] == "bundle"


def test_a_tampered_bundle_fails_the_run_and_runs_nothing(ecs_server: LiveServer, pool: str, tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", greeting="tamper-me")
    deployment, _ = deploy(ecs_server, project, pool, "--source", "bundle", name="tampered")
    sha256 = deployment["source"]["sha256"]
    marker = tmp_path / "executed"
    # Someone swaps the stored archive for one whose flow would leave a mark.
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w:gz") as archive:
        code = f"open({str(marker)!r}, 'w').write('ran')\n".encode() + FLOW.encode()
        info = tarfile.TarInfo("flows.py")
        info.size = len(code)
        archive.addfile(info, io.BytesIO(code))
    stored = ecs_server.home / "bundles" / "bundles" / f"{sha256}.tar.gz"
    assert stored.is_file()
    stored.write_bytes(evil.getvalue())

    api = ecs_server.client()
    done = final(api, trigger(api, deployment))
    assert done["state"]["type"] == "FAILED"
    assert "bundle hash mismatch" in done["state"]["message"]
    assert sha256 in done["state"]["message"]
    assert not marker.exists()


def git(cwd: Path, *args: str) -> str:
    identity = ["-c", "user.name=pushflow tests", "-c", "user.email=tests@pushflow.invalid"]
    done = subprocess.run(["git", *identity, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_a_git_source_runs_the_commit_resolved_at_deploy_time(
    ecs_server: LiveServer, pool: str, tmp_path: Path
) -> None:
    upstream = write_project(tmp_path / "upstream" / "repo" / "flows-dir", greeting="version one").parent
    git(upstream, "init", "--quiet", "--initial-branch", "main")
    git(upstream, "add", "-A")
    git(upstream, "commit", "--quiet", "-m", "one")
    deployed_commit = git(upstream, "rev-parse", "HEAD")
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "--quiet", str(upstream), str(checkout))

    deployment, shown = deploy(ecs_server, checkout / "flows-dir", pool, "--source", "git", name="from-git")
    source = deployment["source"]
    assert source == {
        "type": "git",
        "url": str(upstream),
        "ref": "main",
        "commit": deployed_commit,
        "subdirectory": "flows-dir",
        "credentials": None,
    }
    assert deployed_commit[:12] in shown

    # The branch moves on after the deploy; runs still use the deployed commit.
    (upstream / "flows-dir" / "helper.py").write_text("def greeting(name):\n    return f'version two, {name}'\n")
    git(upstream, "commit", "--quiet", "-am", "two")
    shutil.rmtree(checkout)

    api = ecs_server.client()
    done = final(api, trigger(api, deployment, name="git"))
    assert done["state"]["type"] == "COMPLETED", done["state"]
    logs = logs_of(ecs_server, done)
    assert "version one, git" in logs
    assert "version two" not in logs
    assert f"at {deployed_commit[:12]}" in logs


# Requirements ------------------------------------------------------------------------


# The import is inside the flow: the deployer need not have the requirement installed.
REQUIRING_FLOW = textwrap.dedent(
    """
    from runtime import flow


    @flow(log_prints=True)
    def travelling(name: str = "world") -> str:
        import pfdemo_greeting

        print(pfdemo_greeting.greet(name))
        return pfdemo_greeting.greet(name)
    """
)


def test_requirements_install_once_from_find_links_and_are_cached_on_the_efs_volume(
    ecs_server: LiveServer, ecs_emulator: EcsEmulator, pool: str, tmp_path: Path, deps_cache: Path
) -> None:
    links = tmp_path / "wheels"
    build_wheel(links, "pfdemo-greeting", "0.1", "def greet(name):\n    return f'greetings from a wheel, {name}'\n")
    project = write_project(tmp_path / "project", requirements="pfdemo-greeting==0.1\n")
    (project / "flows.py").write_text(REQUIRING_FLOW)
    index = ["--job-var", f"env.PUSHFLOW_PIP_FIND_LINKS={links}", "--job-var", "env.PUSHFLOW_PIP_NO_INDEX=yes"]
    deployment, _ = deploy(ecs_server, project, pool, "--source", "bundle", *index, name="requires")
    shutil.rmtree(project)

    api = ecs_server.client()
    first = final(api, trigger(api, deployment, name="first"), timeout=120)
    assert first["state"]["type"] == "COMPLETED", first["state"]
    first_logs = logs_of(ecs_server, first)
    assert "requirements: installing" in first_logs
    assert "Successfully installed pfdemo-greeting-0.1" in first_logs  # pip's log is in the run's logs
    assert "greetings from a wheel, first" in first_logs

    second = final(api, trigger(api, deployment, name="second"), timeout=120)
    assert second["state"]["type"] == "COMPLETED", second["state"]
    second_logs = logs_of(ecs_server, second)
    assert "requirements: using the cached environment" in second_logs
    assert "pip install" not in second_logs
    assert "greetings from a wheel, second" in second_logs
    # Each run was a new task; the environment lives on the EFS volume both mounted.
    assert len([p for p in (deps_cache / "envs").iterdir() if not p.name.startswith(".")]) >= 1
    ecs = ecs_emulator.client("ecs")
    task = ecs.describe_tasks(cluster="pushflow", tasks=[second["infrastructure"]["id"]])["tasks"][0]
    definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    assert definition["volumes"][0]["efsVolumeConfiguration"]["fileSystemId"] == deps_cache.name
    assert definition["containerDefinitions"][0]["mountPoints"][0]["containerPath"] == "/var/cache/pushflow/deps"


def test_a_missing_requirement_fails_the_run_naming_it(ecs_server: LiveServer, pool: str, tmp_path: Path) -> None:
    links = tmp_path / "wheels"
    links.mkdir()
    project = write_project(tmp_path / "project", requirements="pfdemo-nowhere==1.0\n")
    index = ["--job-var", f"env.PUSHFLOW_PIP_FIND_LINKS={links}", "--job-var", "env.PUSHFLOW_PIP_NO_INDEX=yes"]
    deployment, _ = deploy(ecs_server, project, pool, "--source", "bundle", *index, name="missing")

    api = ecs_server.client()
    done = final(api, trigger(api, deployment), timeout=120)
    assert done["state"]["type"] == "FAILED"
    assert "pfdemo-nowhere" in done["state"]["message"]
    assert "installing requirements failed" in done["state"]["message"]
    assert "No matching distribution found for pfdemo-nowhere" in logs_of(ecs_server, done)


# The same source from pushflow.yaml and from Python ------------------------------------


def test_pushflow_yaml_and_flow_deploy_take_a_source(ecs_server: LiveServer, pool: str, tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", greeting="declared")
    entry = f"  - name: from-yaml\n    entrypoint: flows.py:travelling\n    pool: {pool}\n    source: bundle\n"
    (project / "pushflow.yaml").write_text("deployments:\n" + entry)
    (project / "deploy_it.py").write_text(
        f"from flows import travelling\n\ntravelling.deploy('from-python', pool={pool!r}, source='bundle')\n"
    )
    from_yaml = cli(ecs_server, "deploy", "--all", cwd=project)
    assert from_yaml.returncode == 0, from_yaml.stdout + from_yaml.stderr
    from_python = subprocess.run(
        [sys.executable, "deploy_it.py"],
        cwd=project,
        env={**ecs_server.env, "PUSHFLOW_API_URL": ecs_server.url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert from_python.returncode == 0, from_python.stdout + from_python.stderr
    shutil.rmtree(project)

    api = ecs_server.client()
    for name in ("from-yaml", "from-python"):
        deployment = api.get(f"/api/deployments/by-name/travelling/{name}").json()
        assert deployment["source"]["type"] == "bundle", name
        done = final(api, trigger(api, deployment, name=name))
        assert done["state"]["type"] == "COMPLETED", (name, done["state"])
        assert f"declared, {name}" in logs_of(ecs_server, done)


def test_an_image_source_loads_from_what_the_image_has(ecs_server: LiveServer, pool: str) -> None:
    """The container starts in an empty folder; the flow is a module the image installed
    (here: importable from the container's PYTHONPATH), named relative to the image."""
    repo = Path(__file__).parents[2]
    args = ["deploy", "tests.flows.etl:etl", "--name", "from-image", "--pool", pool]
    as_bundle = cli(ecs_server, *args, cwd=repo)  # the default on a cloud pool: a bundle ships files
    assert as_bundle.returncode != 0
    assert "an installed module needs --source image" in as_bundle.stderr
    deployed = cli(ecs_server, *args, "--source", "image", cwd=repo)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    api = ecs_server.client()
    deployment = api.get("/api/deployments/by-name/etl/from-image").json()
    assert deployment["source"] == {"type": "image"} and deployment["entrypoint"] == "tests.flows.etl:etl"
    # The image installed the module: here, the checkout on the container's PYTHONPATH.
    done = final(api, trigger(api, deployment, {"env": {"PYTHONPATH": str(repo)}}, n=4))
    assert done["state"]["type"] == "COMPLETED", done["state"]
    assert "total is 60" in logs_of(ecs_server, done)
