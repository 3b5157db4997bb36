"""The cloud-run pool, through the real google-cloud-run client, against the fake API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from push_pools.base import InfraPhase, InfraRef, PoolContext, parse_job
from push_pools.cloud_run import CloudRunJob, CloudRunPool
from push_pools.errors import CapacityError, JobConfigError, SubmissionError
from tests.emulators.cloud_run import FakeCloudRun
from tests.helpers import wait_for
from tests.push_pools.contract import PushPoolContract, python, spec, wait_ended
from tests.simulator import ContainerSimulator

PROJECT, REGION = "demo-project", "europe-west1"


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeCloudRun]:
    fake = FakeCloudRun(ContainerSimulator(tmp_path / "containers")).start()
    yield fake
    fake.stop()


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[CloudRunPool]:
    pool = CloudRunPool(PoolContext(state_dir=tmp_path / "state"), cleanup_interval=0.2)
    yield pool
    pool.close()


@pytest.fixture
def make_job(fake: FakeCloudRun) -> Any:
    def make(command: list[str], **variables: Any) -> CloudRunJob:
        base = {
            "project": PROJECT,
            "region": REGION,
            "image": "europe-docker.pkg.dev/p/r/flows:1",
            "api_endpoint": fake.endpoint,
        }
        return CloudRunJob(**{**base, "command": command, **variables})

    return make


@pytest.fixture
def unknown_ref(fake: FakeCloudRun) -> InfraRef:
    execution = f"projects/{PROJECT}/locations/{REGION}/jobs/pf-nope/executions/pf-nope-abcde"
    return InfraRef(provider="cloud-run", id=f"{execution}?api={fake.endpoint}")


class TestCloudRunPool(PushPoolContract):
    def test_an_ended_runs_job_is_deleted(self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun) -> None:
        wait_ended(pool, pool.submit(spec(), make_job(python("pass"))))
        wait_for(lambda: not fake.jobs, what="the run's Cloud Run job to be deleted")

    def test_a_job_nobody_asks_about_is_still_deleted(
        self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun
    ) -> None:
        # The run reported its own final state: the reconciler never asks status() again.
        pool.submit(spec(), make_job(python("pass")))
        wait_for(lambda: not fake.jobs, timeout=30, what="the janitor to delete the ended run's job")

    def test_status_after_cleanup_still_reports_the_exit(
        self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun
    ) -> None:
        ref = pool.submit(spec(), make_job(python("raise SystemExit(4)")))
        wait_ended(pool, ref)
        wait_for(lambda: not fake.jobs, what="cleanup")
        assert pool.status(ref).exit_code == 4

    def test_create_and_run_are_polled_operations(self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun) -> None:
        wait_ended(pool, pool.submit(spec(), make_job(python("pass"))))
        assert any(m == "GET" and "/operations/" in p for m, p in fake.requests)

    def test_job_template_reaches_cloud_run(self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun) -> None:
        fake.secrets[f"projects/{PROJECT}/secrets/db-password"] = "hunter2"
        job = make_job(
            python("pass"),
            cpu="2",
            memory="1Gi",
            timeout=7200,
            max_retries=1,
            service_account="runner@demo-project.iam.gserviceaccount.com",
            vpc_connector="flows",
            secrets={"DB_PASSWORD": "db-password"},
            labels={"Team": "Data"},
        )
        run = spec()
        pool.submit(run, job)
        created = next(iter(fake.jobs.values()))
        task = created.template.template
        assert task.containers[0].resources.limits == {"cpu": "2", "memory": "1Gi"}
        assert task.timeout.total_seconds() == 7200 and task.max_retries == 1
        assert task.service_account == "runner@demo-project.iam.gserviceaccount.com"
        assert task.vpc_access.connector == f"projects/{PROJECT}/locations/{REGION}/connectors/flows"
        secret = next(e for e in task.containers[0].env if e.name == "DB_PASSWORD")
        assert secret.value_source.secret_key_ref.secret == "db-password"
        assert created.labels["team"] == "data" and created.labels["pushflow-flow"] == "contract"
        assert created.name.endswith(f"/jobs/pushflow-{run.run_id}")

    def test_transient_errors_are_retried(self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun) -> None:
        fake.inject(503, times=2, method="POST", path_contains="/jobs")
        fake.inject(429, times=1, method="GET", path_contains="/executions/")
        status = wait_ended(pool, pool.submit(spec(), make_job(python("pass"))))
        assert status.exit_code == 0

    def test_throttling_that_persists_is_a_capacity_error(self, make_job: Any, fake: FakeCloudRun) -> None:
        fake.inject(429, times=1000, method="POST")
        pool = CloudRunPool(retry_deadline=1.0)
        try:
            with pytest.raises(CapacityError, match="throttling or out of quota"):
                pool.submit(spec(), make_job(python("pass")))
        finally:
            pool.close()

    def test_image_not_found_is_explained(self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun) -> None:
        fake.missing_images.add("europe-docker.pkg.dev/p/r/nope:1")
        with pytest.raises(SubmissionError, match="Image 'europe-docker.pkg.dev/p/r/nope:1' not found"):
            pool.submit(spec(), make_job(python("pass"), image="europe-docker.pkg.dev/p/r/nope:1"))
        assert not fake.jobs

    def test_permission_denied_names_the_roles(self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun) -> None:
        fake.denied_service_accounts.add("other@x.iam.gserviceaccount.com")
        with pytest.raises(SubmissionError, match="roles/iam.serviceAccountUser"):
            pool.submit(spec(), make_job(python("pass"), service_account="other@x.iam.gserviceaccount.com"))

    def test_timeout_surfaces_in_the_reason(self, pool: CloudRunPool, make_job: Any) -> None:
        status = wait_ended(pool, pool.submit(spec(), make_job(python("import time; time.sleep(60)"), timeout=1)))
        assert status.exit_code != 0
        assert "timeout was reached" in (status.reason or "")

    def test_a_run_that_never_started_explains_itself_in_logs(self, pool: CloudRunPool, make_job: Any) -> None:
        ref = pool.submit(spec(), make_job(python("pass"), secrets={"TOKEN": "not-there"}))
        status = wait_ended(pool, ref)
        assert "not-there" in (status.reason or "")
        lines = pool.logs(ref)
        assert any("not-there" in line for line in lines)
        assert lines[-1] == f"Console: {ref.console_url}"
        assert ref.console_url and "console.cloud.google.com/run/jobs/executions" in ref.console_url


def test_job_variables_are_validated() -> None:
    base = {"project": PROJECT, "region": REGION, "image": "img"}
    assert parse_job(CloudRunJob, base, {"timeout": 168 * 3600}).timeout == 168 * 3600
    with pytest.raises(JobConfigError, match="timeout"):
        parse_job(CloudRunJob, base, {"timeout": 168 * 3600 + 1})
    with pytest.raises(JobConfigError, match="memory"):
        parse_job(CloudRunJob, base, {"memory": "lots"})
    with pytest.raises(JobConfigError, match="not both"):
        parse_job(CloudRunJob, base, {"vpc_connector": "c", "network": "default"})
    with pytest.raises(JobConfigError, match="project"):
        parse_job(CloudRunJob, {"region": REGION, "image": "img"})


def test_the_pool_type_is_registered() -> None:
    from push_pools import registry

    assert registry.load("cloud-run") is CloudRunPool
    assert InfraPhase.MISSING  # keep the import meaningful for readers of the contract


def test_a_restarted_control_plane_neither_runs_twice_nor_leaves_jobs(
    make_job: Any, fake: FakeCloudRun, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    code = f"import os, time\nwhile not os.path.exists({str(release)!r}): time.sleep(0.02)"
    run, job = spec(), make_job(python(code))
    before = CloudRunPool(cleanup_interval=3600)
    first = before.submit(run, job)
    before.close()  # the control plane went away before the run ended
    release.touch()
    wait_for(lambda: all(e.outcome for e in fake.executions.values()), what="the execution to end")
    after = CloudRunPool(cleanup_interval=0.2)
    try:
        assert after.submit(run, job).id == first.id  # the retried submit finds it
        assert len(fake.simulator.containers) == 1
        wait_ended(after, after.submit(spec(), job))
        wait_for(lambda: not fake.jobs, what="the sweep to delete every ended job")
    finally:
        after.close()
