"""The cloud-run pool, through the real google-cloud-run client, against the fake API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from push_pools.base import InfraPhase, InfraRef, parse_job
from push_pools.cloud_run import CloudRunJob, CloudRunPool
from push_pools.errors import CapacityError, JobConfigError, SubmissionError
from tests.emulators.cloud_run import FakeCloudRun
from tests.push_pools.contract import PushPoolContract, python, spec, wait_ended
from tests.simulator import ContainerSimulator

PROJECT, REGION = "demo-project", "europe-west1"


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeCloudRun]:
    fake = FakeCloudRun(ContainerSimulator(tmp_path / "containers")).start()
    yield fake
    fake.stop()


@pytest.fixture
def pool() -> CloudRunPool:
    return CloudRunPool()


@pytest.fixture
def second_pool() -> CloudRunPool:
    return CloudRunPool()


@pytest.fixture
def make_job(fake: FakeCloudRun) -> Any:
    def make(command: list[str], **variables: Any) -> CloudRunJob:
        base = {
            "project": PROJECT,
            "region": REGION,
            "image": "europe-docker.pkg.dev/p/r/flows:1",
            "api_endpoint": fake.endpoint,
            "logging_endpoint": fake.endpoint,
            "credentials": "anonymous",
            "ca_bundle": fake.ca_bundle,
        }
        return CloudRunJob(**{**base, "command": command, **variables})

    return make


@pytest.fixture
def deps_cache_volume(fake: FakeCloudRun, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    fake.buckets["pushflow-deps"] = tmp_path / "bucket"
    return {"bucket": "pushflow-deps"}, tmp_path / "bucket"


@pytest.fixture
def unknown_ref(fake: FakeCloudRun) -> InfraRef:
    execution = f"projects/{PROJECT}/locations/{REGION}/jobs/pf-nope/executions/pf-nope-abcde"
    return InfraRef(
        provider="cloud-run", id=execution, locator={"api_endpoint": fake.endpoint, "credentials": "anonymous"}
    )


@pytest.fixture
def exists(fake: FakeCloudRun) -> Any:
    return lambda ref: ref.locator["job"] in fake.jobs


@pytest.fixture
def stall_provisioning(fake: FakeCloudRun) -> Any:
    return fake.stall()


@pytest.fixture
def lose_create_answer(fake: FakeCloudRun) -> Any:
    return fake.lose_answer(method="POST", path_contains="/jobs")


class TestCloudRunPool(PushPoolContract):
    def test_release_deletes_the_job_and_then_it_is_missing(
        self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun
    ) -> None:
        ref = pool.submit(spec(), make_job(python("raise SystemExit(4)")))
        assert wait_ended(pool, ref).exit_code == 4
        assert pool.release(ref).last_status.exit_code == 4
        assert not fake.jobs
        assert pool.status(ref).phase is InfraPhase.MISSING

    def test_create_and_run_are_polled_operations(self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun) -> None:
        ref = pool.submit(spec(), make_job(python("pass")))
        wait_ended(pool, ref)
        assert any(m == "GET" and "/operations/" in p for m, p in fake.requests)
        pool.release(ref)

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
        ref = pool.submit(run, job)
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
        assert ref.locator["job"] == created.name
        pool.release(ref)

    def test_transient_errors_are_retried(self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun) -> None:
        fake.inject(503, times=2, method="POST", path_contains="/jobs")
        fake.inject(429, times=1, method="GET", path_contains="/executions/")
        ref = pool.submit(spec(), make_job(python("pass")))
        assert wait_ended(pool, ref).exit_code == 0
        pool.release(ref)

    def test_throttling_that_persists_is_a_capacity_error(self, make_job: Any, fake: FakeCloudRun) -> None:
        fake.inject(429, times=1000, method="POST")
        with pytest.raises(CapacityError, match="throttling or out of quota"):
            CloudRunPool(retry_deadline=1.0).submit(spec(), make_job(python("pass")))

    def test_a_missing_image_fails_the_create_and_the_left_job_is_released(
        self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun
    ) -> None:
        fake.missing_images.add("europe-docker.pkg.dev/p/r/nope:1")
        run, job = spec(), make_job(python("pass"), image="europe-docker.pkg.dev/p/r/nope:1")
        with pytest.raises(SubmissionError, match="Image 'europe-docker.pkg.dev/p/r/nope:1' not found") as caught:
            pool.submit(run, job)
        ref = caught.value.ref
        assert ref is not None and ref.locator["job"] in fake.jobs  # real Cloud Run keeps it
        with pytest.raises(SubmissionError, match="not found"):  # a retried submit says the same
            pool.submit(run, job)
        assert "not found" in (pool.status(ref).reason or "")
        pool.release(ref)
        assert not fake.jobs

    def test_a_missing_secret_fails_the_create_and_explains_itself(
        self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun
    ) -> None:
        with pytest.raises(SubmissionError, match="not-there") as caught:
            pool.submit(spec(), make_job(python("pass"), secrets={"TOKEN": "not-there"}))
        ref = caught.value.ref
        assert ref is not None
        status = pool.status(ref)
        assert status.ended and "not-there" in (status.reason or "")
        lines = pool.logs(ref)
        assert any("not-there" in line for line in lines)
        assert lines[-1] == f"Console: {ref.console_url}"
        pool.release(ref)
        assert not fake.jobs

    def test_permission_denied_names_the_roles(self, pool: CloudRunPool, make_job: Any, fake: FakeCloudRun) -> None:
        fake.denied_service_accounts.add("other@x.iam.gserviceaccount.com")
        with pytest.raises(SubmissionError, match="roles/iam.serviceAccountUser"):
            pool.submit(spec(), make_job(python("pass"), service_account="other@x.iam.gserviceaccount.com"))

    def test_timeout_surfaces_in_the_reason(self, pool: CloudRunPool, make_job: Any) -> None:
        ref = pool.submit(spec(), make_job(python("import time; time.sleep(60)"), timeout=1))
        status = wait_ended(pool, ref)
        assert status.exit_code != 0
        assert "timeout was reached" in (status.reason or "")
        assert ref.console_url and "console.cloud.google.com/run/jobs/executions" in ref.console_url
        pool.release(ref)


def test_the_fake_rejects_unknown_fields_like_the_real_api(fake: FakeCloudRun) -> None:
    body = {"template": {"template": {"containers": [{"image": "img", "imageTypo": "x"}]}}}
    answer = requests.post(f"{fake.endpoint}/v2/projects/{PROJECT}/locations/{REGION}/jobs?jobId=typo", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT" and "imageTypo" in answer.json()["error"]["message"]


def test_an_https_endpoint_with_a_ca_bundle_and_anonymous_credentials(tmp_path: Path) -> None:
    fake = FakeCloudRun(ContainerSimulator(tmp_path / "containers"), tls_dir=tmp_path / "tls").start()
    try:
        assert fake.endpoint.startswith("https://") and fake.ca_bundle
        variables = {
            "project": PROJECT,
            "region": REGION,
            "image": "img",
            "api_endpoint": fake.endpoint,
            "logging_endpoint": fake.endpoint,
            "credentials": "anonymous",
            "ca_bundle": fake.ca_bundle,
            "command": python("print('over tls', flush=True)"),
        }
        pool = CloudRunPool()
        ref = pool.submit(spec(), CloudRunJob(**variables))
        assert wait_ended(pool, ref).exit_code == 0
        assert "over tls" in pool.logs(ref)
        pool.release(ref)
        assert not fake.jobs
    finally:
        fake.stop()


def test_a_service_account_key_file_over_https_with_a_ca_bundle(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    fake = FakeCloudRun(ContainerSimulator(tmp_path / "containers"), tls_dir=tmp_path / "tls").start()
    try:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        key_file = tmp_path / "sa.json"
        key_file.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": PROJECT,
                    "private_key_id": "k1",
                    "private_key": pem,
                    "client_email": f"control-plane@{PROJECT}.iam.gserviceaccount.com",
                    "client_id": "1",
                    "token_uri": f"{fake.endpoint}/token",
                }
            )
        )
        variables = {
            "project": PROJECT,
            "region": REGION,
            "image": "img",
            "api_endpoint": fake.endpoint,
            "logging_endpoint": fake.endpoint,
            "credentials": str(key_file),
            "ca_bundle": fake.ca_bundle,
            "command": python("print('signed in', flush=True)"),
        }
        pool = CloudRunPool()
        ref = pool.submit(spec(), CloudRunJob(**variables))
        assert wait_ended(pool, ref).exit_code == 0
        assert "signed in" in pool.logs(ref)  # Cloud Logging, with a traded token
        # The Cloud Run clients sign their own JWT with the key (self-signed JWT access); the
        # Cloud Logging session trades one at token_uri, through the same CA bundle.
        from google.auth import jwt

        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert fake.bearers
        assert "token-for-the-service-account" in fake.bearers
        for bearer in fake.bearers - {"token-for-the-service-account"}:
            claims = jwt.decode(bearer, certs={"k1": public.decode()}, verify=True)
            assert claims["iss"] == f"control-plane@{PROJECT}.iam.gserviceaccount.com"
        assert str(key_file) == ref.locator["credentials"] and "PRIVATE KEY" not in str(ref)
        pool.release(ref)
    finally:
        fake.stop()


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
    with pytest.raises(JobConfigError, match="credentials=anonymous"):
        parse_job(CloudRunJob, base, {"api_endpoint": "http://127.0.0.1:9"})
    # the logging endpoint is never derived from the Run endpoint
    assert parse_job(CloudRunJob, base, {"api_endpoint": "https://run.example"}).logging_endpoint is None


def test_the_pool_type_is_registered() -> None:
    from push_pools import registry

    assert isinstance(registry.load("cloud-run")(), CloudRunPool)


# The requirements cache on a Cloud Storage or NFS volume --------------------------------


def test_the_deps_cache_is_a_volume_of_the_job(
    pool: CloudRunPool, make_job: Any, fake: FakeCloudRun, deps_cache_volume: tuple[dict[str, Any], Path]
) -> None:
    variables, _ = deps_cache_volume
    ref = pool.submit(spec(), make_job(python("pass"), deps_cache={**variables, "mount_options": ["implicit-dirs"]}))
    template = fake.jobs[ref.locator["job"]].template.template
    assert [(v.name, v.gcs.bucket, list(v.gcs.mount_options)) for v in template.volumes] == [
        ("pushflow-deps-cache", "pushflow-deps", ["implicit-dirs"])
    ]
    container = template.containers[0]
    assert [(m.name, m.mount_path) for m in container.volume_mounts] == [
        ("pushflow-deps-cache", "/var/cache/pushflow/deps")
    ]
    assert {e.name: e.value for e in container.env}["PUSHFLOW_DEPS_CACHE"] == "/var/cache/pushflow/deps"
    assert wait_ended(pool, ref).exit_code == 0
    pool.release(ref)


def test_an_nfs_deps_cache_mounts_the_export_and_needs_a_vpc(
    pool: CloudRunPool, make_job: Any, fake: FakeCloudRun, tmp_path: Path
) -> None:
    nfs = {"nfs_server": "10.0.0.2", "nfs_path": "/pushflow"}
    with pytest.raises(ValueError, match="needs vpc_connector or network"):
        make_job(python("pass"), deps_cache=nfs)
    fake.nfs_exports["10.0.0.2:/pushflow"] = tmp_path / "filestore"
    code = "import os, pathlib; (pathlib.Path(os.environ['PUSHFLOW_DEPS_CACHE']) / 'ok').touch()"
    ref = pool.submit(spec(), make_job(python(code), deps_cache=nfs, network="default"))
    volume = fake.jobs[ref.locator["job"]].template.template.volumes[0]
    assert (volume.nfs.server, volume.nfs.path, volume.nfs.read_only) == ("10.0.0.2", "/pushflow", False)
    assert wait_ended(pool, ref).exit_code == 0
    assert (tmp_path / "filestore" / "ok").exists()
    pool.release(ref)


def test_a_bucket_that_does_not_exist_fails_the_execution(pool: CloudRunPool, make_job: Any) -> None:
    ref = pool.submit(spec(), make_job(python("pass"), deps_cache={"bucket": "no-such-bucket"}))
    status = wait_ended(pool, ref)
    assert "no-such-bucket" in (status.reason or "")
    pool.release(ref)


def test_the_fake_checks_volumes_like_the_real_api(fake: FakeCloudRun) -> None:
    url = f"{fake.endpoint}/v2/projects/{PROJECT}/locations/{REGION}/jobs"

    def create(job_id: str, volumes: list[dict[str, Any]], mounts: list[dict[str, Any]]) -> dict[str, Any]:
        container = {"image": "img", "volumeMounts": mounts}
        body = {"template": {"template": {"containers": [container], "volumes": volumes}}}
        answer = requests.post(f"{url}?jobId={job_id}", json=body)
        assert answer.status_code == 400
        return answer.json()["error"]  # type: ignore[no-any-return]

    gcs = {"name": "deps", "gcs": {"bucket": "b"}}
    error = create("typo", [{"name": "deps", "gcs": {"bucket": "b", "cacheMode": "x"}}], [])
    assert error["status"] == "INVALID_ARGUMENT" and "cacheMode" in error["message"]
    assert "names no volume" in create("dangling", [gcs], [{"name": "other", "mountPath": "/deps"}])["message"]
    assert "mount path" in create("proc", [gcs], [{"name": "deps", "mountPath": "/proc/deps"}])["message"]
    assert "bucket is required" in create("nobucket", [{"name": "deps", "gcs": {}}], [])["message"]
