"""The ecs pool against moto in server mode over real HTTP; tasks run in the container
simulator (tests/emulators/ecs.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from push_pools.base import InfraPhase, InfraRef, parse_job
from push_pools.ecs import EcsJob, EcsPool
from push_pools.ecs.aws import Backoff
from push_pools.ecs.status import task_status
from push_pools.errors import CapacityError, JobConfigError
from tests.emulators.ecs import CREDENTIALS, REGION, EcsEmulator
from tests.helpers import wait_for
from tests.push_pools.contract import PushPoolContract, python, spec, wait_ended

CLUSTER = "pushflow"
LOG_GROUP = "/pushflow/runs"
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/pushflow-execution"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EcsEmulator]:
    emulator = EcsEmulator(tmp_path_factory.mktemp("ecs-containers")).start()
    try:
        emulator.ensure_cluster_and_log_group(CLUSTER, LOG_GROUP)
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def unknown_ref(emulator: EcsEmulator) -> InfraRef:
    arn = f"arn:aws:ecs:{REGION}:123456789012:task/{CLUSTER}/{uuid.uuid4().hex}"
    return InfraRef(provider="ecs", id=arn, locator={"endpoint_url": emulator.url, "cluster": CLUSTER})


@pytest.fixture
def pool() -> EcsPool:
    return EcsPool(backoff=Backoff(base_seconds=0.01))


@pytest.fixture
def second_pool() -> EcsPool:
    return EcsPool(backoff=Backoff(base_seconds=0.01))


@pytest.fixture
def exists(emulator: EcsEmulator) -> Any:
    """The task still runs, or its per-run secret or task-definition revision is left."""

    def check(ref: InfraRef) -> bool:
        task = described(emulator, ref)
        if task["lastStatus"] != "STOPPED":
            return True
        if "secret" in ref.locator:
            secrets = emulator.client("secretsmanager").list_secrets()["SecretList"]
            if any(s["Name"] == ref.locator["secret"] for s in secrets):
                return True
        revision = ref.locator.get("task_definition")
        if revision:
            found = emulator.client("ecs").describe_task_definition(taskDefinition=revision)
            return bool(found["taskDefinition"]["status"] == "ACTIVE")
        return False

    return check


@pytest.fixture
def stall_provisioning(emulator: EcsEmulator) -> Any:
    return emulator.stall()


@pytest.fixture
def lose_create_answer(emulator: EcsEmulator) -> Any:
    return emulator.lose_answer("run_task")


@pytest.fixture
def job_vars(emulator: EcsEmulator) -> dict[str, Any]:
    return {
        "image": "pushflow/flows:test",
        "cluster": CLUSTER,
        "subnets": [emulator.default_subnet()],
        "region": REGION,
        "endpoint_url": emulator.url,
        "log_group": LOG_GROUP,
        "execution_role_arn": EXECUTION_ROLE,
        # The run token as a per-run secret: a resource release must delete.
        "run_token_secret_prefix": "pushflow/run-tokens/",
    }


@pytest.fixture
def make_job(job_vars: dict[str, Any]) -> Any:
    return lambda command, **more: EcsJob(**{**job_vars, "command": command, **more})


@pytest.fixture
def deps_cache_volume(emulator: EcsEmulator) -> tuple[dict[str, Any], Path]:
    """A file system made in moto's EFS; the emulator stands a host folder in for it."""
    file_system = emulator.client("efs").create_file_system(CreationToken=uuid.uuid4().hex)["FileSystemId"]
    return {"file_system_id": file_system}, emulator.simulator.log_dir / "efs" / file_system


def described(emulator: EcsEmulator, ref: InfraRef) -> dict[str, Any]:
    found = emulator.client("ecs").describe_tasks(cluster=CLUSTER, tasks=[ref.id], include=["TAGS"])
    return found["tasks"][0]  # type: ignore[no-any-return]


class TestEcsPool(PushPoolContract):
    def test_task_definitions_are_registered_once_per_content(
        self, pool: EcsPool, make_job: Any, emulator: EcsEmulator, tmp_path: Path
    ) -> None:
        plain = {"run_token_secret_prefix": None}
        refs = [pool.submit(spec(), make_job(python("pass"), **plain)) for _ in range(3)]
        bigger = pool.submit(spec(), make_job(python("pass"), memory=2048, cpu=1024, **plain))
        definitions = {described(emulator, ref)["taskDefinitionArn"] for ref in refs}
        assert len(definitions) == 1
        assert described(emulator, bigger)["taskDefinitionArn"] not in definitions
        # a new adapter (a restarted control plane) finds the revision instead of adding one
        family = definitions.pop().split("/")[-1].split(":")[0]
        fresh = EcsPool()
        ref = fresh.submit(spec(), make_job(python("pass"), **plain))
        assert described(emulator, ref)["taskDefinitionArn"].split("/")[-1].split(":")[0] == family
        revisions = emulator.client("ecs").list_task_definitions(familyPrefix=family)["taskDefinitionArns"]
        assert len(revisions) == 1
        for r in [*refs, bigger]:
            wait_ended(pool, r)
        wait_ended(fresh, ref)

    def test_the_submission_carries_command_env_and_labels_but_no_token_in_tags(
        self, pool: EcsPool, make_job: Any, emulator: EcsEmulator
    ) -> None:
        run = spec()
        ref = pool.submit(run, make_job(["pushflow", "execute"], tags={"team": "data"}))
        task = described(emulator, ref)
        override = task["overrides"]["containerOverrides"][0]
        assert override["command"] == ["pushflow", "execute"]
        env = {e["name"]: e["value"] for e in override["environment"]}
        assert env["PUSHFLOW_FLOW_RUN_ID"] == run.run_id
        tags = {t["key"]: t["value"] for t in task["tags"]}
        assert tags["pushflow.flow"] == "contract" and tags["team"] == "data"
        assert "pfr_secret-for-contract" not in json.dumps(task["tags"])
        assert tags["pushflow.attempt"] == "1"
        assert task["startedBy"].startswith("pf-")  # derived from run id and attempt
        assert ref.console_url and CLUSTER in ref.console_url
        wait_ended(pool, ref)

    def test_run_token_can_travel_as_a_secrets_manager_secret(
        self, pool: EcsPool, make_job: Any, emulator: EcsEmulator, tmp_path: Path
    ) -> None:
        out = tmp_path / "token"
        code = f"import os; open({str(out)!r}, 'w').write(os.environ['PUSHFLOW_RUN_TOKEN'])"
        run = spec()
        ref = pool.submit(run, make_job(python(code), run_token_secret_prefix="pushflow/run-tokens/"))
        task = described(emulator, ref)
        assert "pfr_secret-for-contract" not in json.dumps(task["overrides"])
        assert wait_ended(pool, ref).exit_code == 0
        assert out.read_text() == "pfr_secret-for-contract"
        secrets = emulator.client("secretsmanager")
        assert secrets.describe_secret(SecretId=f"pushflow/run-tokens/{run.run_id}")["Name"].endswith(run.run_id)
        # release deletes the secret and deregisters the per-run revision
        pool.release(ref)
        names = [s["Name"] for s in secrets.list_secrets()["SecretList"]]
        assert f"pushflow/run-tokens/{run.run_id}" not in names
        definition = emulator.client("ecs").describe_task_definition(taskDefinition=task["taskDefinitionArn"])
        assert definition["taskDefinition"]["status"] == "INACTIVE"

    def test_an_image_that_cannot_be_pulled_is_explained(
        self, pool: EcsPool, make_job: Any, emulator: EcsEmulator
    ) -> None:
        emulator.pull_errors["pushflow/typo:1"] = (
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
            "docker.io/pushflow/typo:1: not found"
        )
        ref = pool.submit(spec(), make_job(python("pass"), image="pushflow/typo:1"))
        status = wait_ended(pool, ref)
        assert status.phase is InfraPhase.EXITED
        assert status.exit_code is None
        assert "TaskFailedToStart" in (status.reason or "")
        assert "docker.io/pushflow/typo:1: not found" in (status.reason or "")
        assert any("CannotPullContainerError" in line for line in pool.logs(ref))

    def test_a_missing_log_group_fails_the_start_with_the_reason(self, pool: EcsPool, make_job: Any) -> None:
        ref = pool.submit(spec(), make_job(python("pass"), log_group="/no/such/group"))
        status = wait_ended(pool, ref)
        assert "ResourceInitializationError" in (status.reason or "")
        assert "/no/such/group" in (status.reason or "")

    def test_throttling_is_retried_and_the_run_starts_once(
        self, pool: EcsPool, make_job: Any, emulator: EcsEmulator
    ) -> None:
        run = spec()
        with emulator.throttle("run_task", times=2) as calls:
            ref = pool.submit(run, make_job(python("pass")))
        assert len(calls) == 3
        started_by = described(emulator, ref)["startedBy"]
        started = emulator.client("ecs").list_tasks(cluster=CLUSTER, startedBy=started_by)["taskArns"]
        assert started == [ref.id]
        wait_ended(pool, ref)

    def test_throttling_that_does_not_stop_is_a_retryable_capacity_error(
        self, pool: EcsPool, make_job: Any, emulator: EcsEmulator
    ) -> None:
        with (
            emulator.throttle("run_task", times=1000),
            pytest.raises(CapacityError, match="throttled") as caught,
        ):
            pool.submit(spec(), make_job(python("pass")))
        assert caught.value.retryable

    def test_run_timeout_is_reported_ended_and_release_stops_the_task(
        self, pool: EcsPool, make_job: Any, emulator: EcsEmulator, tmp_path: Path
    ) -> None:
        started = tmp_path / "started"
        code = f"import time; open({str(started)!r}, 'w').close(); time.sleep(120)"
        ref = pool.submit(spec(), make_job(python(code), run_timeout_seconds=1))
        wait_for(started.exists, what="the run to start")
        status = wait_ended(pool, ref)
        assert "run timeout of 1s exceeded" in (status.reason or "")
        assert emulator.simulator.get(ref.id).exit_code is None  # a read stops nothing
        pool.release(ref)
        container = wait_for(
            lambda: (c := emulator.simulator.get(ref.id)) and c.exit_code is not None and c,
            what="the container to be stopped",
        )
        assert container.exit_code != 0

    def test_statuses_of_many_tasks_take_one_describe_call(
        self, pool: EcsPool, make_job: Any, emulator: EcsEmulator, tmp_path: Path
    ) -> None:
        refs = [pool.submit(spec(), make_job(python("pass"))) for _ in range(5)]
        with emulator.throttle("describe_tasks", times=0) as calls:
            statuses = pool.statuses(refs)
        assert len(calls) == 1 and set(statuses) == {r.id for r in refs}
        for ref in refs:
            wait_ended(pool, ref)
            pool.release(ref)

    def test_no_subnets_is_refused_before_anything_reaches_aws(self, pool: EcsPool, make_job: Any) -> None:
        with pytest.raises(JobConfigError, match="subnets"):
            pool.submit(spec(), make_job(python("pass"), subnets=[]))


class TestEcsJob:
    def test_defaults_and_merge_order(self) -> None:
        job = parse_job(EcsJob, {"image": "a", "cpu": 512, "memory": 1024}, {"image": "b"}, {"env": {"X": "1"}})
        assert (job.image, job.cpu, job.memory, job.command) == (
            "b",
            512,
            1024,
            ["pushflow", "execute"],
        )
        assert job.launch_type == "FARGATE"

    def test_invalid_fargate_cpu_names_the_sizes(self) -> None:
        with pytest.raises(JobConfigError, match="cpu=300 is not a Fargate size"):
            parse_job(EcsJob, {"image": "a", "cpu": 300})

    def test_image_is_required(self) -> None:
        with pytest.raises(JobConfigError, match="image"):
            parse_job(EcsJob, {})


def stopped(stop_code: str = "EssentialContainerExited", reason: str = "", **container: Any) -> dict[str, Any]:
    return {
        "lastStatus": "STOPPED",
        "stopCode": stop_code,
        "stoppedReason": reason,
        "memory": "512",
        "containers": [{"name": "pushflow", **container}],
    }


class TestTaskStatus:
    def test_out_of_memory_says_so_and_names_the_memory(self) -> None:
        status = task_status(stopped(exitCode=137, reason="OutOfMemoryError: Container killed due to memory usage"))
        assert status.exit_code == 137
        assert "ran out of memory" in (status.reason or "") and "512 MiB" in (status.reason or "")
        assert not status.retryable

    def test_spot_interruption_is_retryable(self) -> None:
        status = task_status(stopped("SpotInterruption", "Your Spot Task was interrupted.", exitCode=143))
        assert status.retryable and "SpotInterruption" in (status.reason or "")

    def test_capacity_failure_to_start_is_retryable(self) -> None:
        status = task_status(stopped("TaskFailedToStart", "Capacity is unavailable at this time."))
        assert status.retryable and "Capacity is unavailable" in (status.reason or "")

    def test_pending_and_running(self) -> None:
        assert task_status({"lastStatus": "PROVISIONING"}).phase is InfraPhase.PENDING
        assert task_status({"lastStatus": "RUNNING"}).phase is InfraPhase.RUNNING
        assert task_status({"lastStatus": "STOPPING"}).phase is InfraPhase.RUNNING


# The requirements cache on EFS -------------------------------------------------------------


def test_the_deps_cache_is_an_efs_volume_of_the_task_definition(
    pool: EcsPool, make_job: Any, emulator: EcsEmulator, deps_cache_volume: tuple[dict[str, Any], Path]
) -> None:
    variables, _ = deps_cache_volume
    cache = {**variables, "access_point_id": "fsap-0123456789abcdef0", "iam": True}
    ref = pool.submit(spec(), make_job(python("pass"), deps_cache=cache))
    task = described(emulator, ref)
    definition = emulator.client("ecs").describe_task_definition(taskDefinition=task["taskDefinitionArn"])
    body = definition["taskDefinition"]
    assert body["volumes"] == [
        {
            "name": "pushflow-deps-cache",
            "efsVolumeConfiguration": {
                "fileSystemId": variables["file_system_id"],
                "rootDirectory": "/",
                "transitEncryption": "ENABLED",
                "authorizationConfig": {"accessPointId": "fsap-0123456789abcdef0", "iam": "ENABLED"},
            },
        }
    ]
    container = body["containerDefinitions"][0]
    assert container["mountPoints"] == [
        {"sourceVolume": "pushflow-deps-cache", "containerPath": "/var/cache/pushflow/deps"}
    ]
    assert {"name": "PUSHFLOW_DEPS_CACHE", "value": "/var/cache/pushflow/deps"} in container["environment"]
    assert wait_ended(pool, ref).exit_code == 0


def test_a_file_system_that_does_not_exist_fails_the_start(pool: EcsPool, make_job: Any) -> None:
    ref = pool.submit(spec(), make_job(python("pass"), deps_cache={"file_system_id": "fs-0000dead0000beef"}))
    status = wait_ended(pool, ref)
    assert "ResourceInitializationError" in (status.reason or "")
    assert "fs-0000dead0000beef" in (status.reason or "")


def test_efs_settings_are_checked_as_ecs_documents_them(job_vars: dict[str, Any]) -> None:
    bad = {
        "root_directory": "/deps",  # an access point sets the folder itself
        "access_point_id": "fsap-0123456789abcdef0",
    }
    with pytest.raises(JobConfigError, match="root_directory must be /"):
        parse_job(EcsJob, job_vars, {"deps_cache": {"file_system_id": "fs-0123abcd", **bad}})
    with pytest.raises(JobConfigError, match="transit_encryption"):
        parse_job(
            EcsJob,
            job_vars,
            {"deps_cache": {"file_system_id": "fs-0123abcd", "iam": True, "transit_encryption": False}},
        )
    with pytest.raises(JobConfigError, match="system folder"):
        parse_job(EcsJob, job_vars, {"deps_cache": {"file_system_id": "fs-0123abcd", "mount_path": "/proc/deps"}})


def test_an_unknown_efs_field_is_refused_before_it_reaches_aws(emulator: EcsEmulator) -> None:
    import botocore.exceptions

    volume = {"name": "v", "efsVolumeConfiguration": {"fileSystemId": "fs-0123abcd", "cacheMode": "fast"}}
    with pytest.raises(botocore.exceptions.ParamValidationError, match="cacheMode"):
        emulator.client("ecs").register_task_definition(
            family="typo", containerDefinitions=[{"name": "c", "image": "i", "memory": 512}], volumes=[volume]
        )
