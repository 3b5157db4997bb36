"""The aci pool, through the real azure-mgmt-containerinstance client, against the ARM fake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from push_pools.aci import AciJob, AciPool
from push_pools.base import InfraPhase, InfraRef, parse_job
from push_pools.errors import JobConfigError, ProviderUnavailableError, SubmissionError
from tests.emulators.aci import AciFake, FakeCredential
from tests.helpers import wait_for
from tests.push_pools.contract import PushPoolContract, python, sleeper, spec, wait_ended
from tests.simulator import ContainerSimulator

SUB, RG = "00000000-0000-0000-0000-000000000001", "pushflow-runs"


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[ContainerSimulator]:
    sim = ContainerSimulator(tmp_path / "containers")
    yield sim
    sim.stop_all()


@pytest.fixture
def fake(simulator: ContainerSimulator, tmp_path: Path) -> Iterator[AciFake]:
    with AciFake(simulator, tmp_path / "tls") as fake:
        yield fake


@pytest.fixture
def pool(fake: AciFake) -> AciPool:
    return AciPool(credential=FakeCredential())


@pytest.fixture
def second_pool(fake: AciFake) -> AciPool:
    return AciPool(credential=FakeCredential())


@pytest.fixture
def job_vars(fake: AciFake) -> dict[str, Any]:
    return {
        "subscription_id": SUB,
        "resource_group": RG,
        "location": "westeurope",
        "image": "example.azurecr.io/flows:1",
        "base_url": fake.url,
        "ca_bundle": fake.ca_bundle,
        "polling_interval": 0.05,
    }


@pytest.fixture
def make_job(job_vars: dict[str, Any]) -> Any:
    return lambda command, **more: AciJob(**{**job_vars, "command": command, **more})


@pytest.fixture
def deps_cache_volume(fake: AciFake, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    fake.file_shares["pfcache/deps"] = ("account-key", tmp_path / "share")
    variables = {"storage_account_name": "pfcache", "share_name": "deps", "storage_account_key": "account-key"}
    return variables, tmp_path / "share"


@pytest.fixture
def unknown_ref(fake: AciFake) -> InfraRef:
    return InfraRef(
        provider="aci",
        id=f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
        "Microsoft.ContainerInstance/containerGroups/pushflow-never-made",
        locator={"base_url": fake.url, "ca_bundle": fake.ca_bundle},
    )


@pytest.fixture
def exists(fake: AciFake) -> Any:
    return lambda ref: ref.id.rsplit("/", 1)[1] in fake.live_groups()


@pytest.fixture
def stall_provisioning(fake: AciFake) -> Any:
    return fake.stall()


@pytest.fixture
def lose_create_answer(fake: AciFake) -> Any:
    return fake.lose_answer(method="PUT")


class TestAciPool(PushPoolContract):
    def test_group_is_named_from_the_run_and_created_once_without_polling(
        self, pool: AciPool, make_job: Any, fake: AciFake
    ) -> None:
        run = spec()
        ref = pool.submit(run, make_job(python("pass")))
        assert ref.id.endswith(f"/containerGroups/pushflow-{run.run_id}")
        assert pool.submit(run, make_job(python("pass"))).id == ref.id
        assert len(fake.submissions) == 1
        assert not [p for _, p in fake.requests if "/operations/" in p]  # accepted is enough
        wait_ended(pool, ref)
        pool.release(ref)

    def test_a_put_whose_answer_was_lost_is_not_sent_again(self, pool: AciPool, make_job: Any, fake: AciFake) -> None:
        # azure-core would re-send it by itself, and ARM would take the second PUT as an
        # update that restarts the run: the adapter reads before it writes instead.
        with fake.lose_answer(method="PUT"):
            ref = pool.submit(spec(), make_job(python("pass")))
        assert len(fake.submissions) == 1 and fake.restarts == []
        wait_ended(pool, ref)
        pool.release(ref)

    def test_a_healthy_container_with_pull_events_is_running(
        self, pool: AciPool, make_job: Any, fake: AciFake, tmp_path: Path
    ) -> None:
        started = tmp_path / "started"
        ref = pool.submit(spec(), make_job(sleeper(started)))
        wait_for(started.exists, what="the run to start")
        view = fake._view(next(iter(fake.groups.values())))
        events = [e["name"] for e in view["properties"]["containers"][0]["properties"]["instanceView"]["events"]]
        assert events[:2] == ["Pulling", "Pulled"]
        assert pool.status(ref).phase is InfraPhase.RUNNING
        pool.release(ref)

    def test_run_token_is_sent_as_a_secure_value_only(self, pool: AciPool, make_job: Any, fake: AciFake) -> None:
        ref = pool.submit(spec(), make_job(python("pass"), secure_env={"DB_PASSWORD": "hunter2"}))
        wait_ended(pool, ref)
        env = {
            e["name"]: e
            for e in fake.submissions[0]["properties"]["containers"][0]["properties"]["environmentVariables"]
        }
        assert env["PUSHFLOW_RUN_TOKEN"] == {"name": "PUSHFLOW_RUN_TOKEN", "secureValue": "pfr_secret-for-contract"}
        assert env["DB_PASSWORD"] == {"name": "DB_PASSWORD", "secureValue": "hunter2"}
        assert "value" in env["PUSHFLOW_FLOW_RUN_ID"]
        assert "pfr_secret-for-contract" not in str(ref)  # nothing secret in the locator
        pool.release(ref)

    def test_submission_carries_the_job_template(self, pool: AciPool, make_job: Any, fake: AciFake) -> None:
        rg = f"/subscriptions/{SUB}/resourceGroups/{RG}"
        identity = f"{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/runs"
        subnet = f"{rg}/providers/Microsoft.Network/virtualNetworks/v/subnets/aci"
        job = make_job(
            python("pass"),
            cpu=2,
            memory_gb=4,
            identity=identity,
            subnet_ids=[subnet],
            dns_config={"name_servers": ["10.0.0.4"], "search_domains": "corp.local"},
            image_registry_credentials=[{"server": "example.azurecr.io", "username": "u", "password": "p"}],
        )
        ref = pool.submit(spec(), job)
        wait_ended(pool, ref)
        body = fake.submissions[0]
        props = body["properties"]
        assert props["restartPolicy"] == "Never" and props["osType"] == "Linux"
        assert props["containers"][0]["properties"]["resources"]["requests"] == {"cpu": 2.0, "memoryInGB": 4.0}
        assert body["identity"] == {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}}
        assert props["subnetIds"] == [{"id": subnet}]
        assert props["dnsConfig"] == {"nameServers": ["10.0.0.4"], "searchDomains": "corp.local"}
        assert props["imageRegistryCredentials"] == [{"server": "example.azurecr.io", "username": "u", "password": "p"}]
        assert body["tags"] == {"pushflow.flow": "contract"}
        pool.release(ref)

    def test_release_deletes_the_group_and_returns_its_log_tail(
        self, pool: AciPool, make_job: Any, fake: AciFake
    ) -> None:
        ref = pool.submit(spec(), make_job(python("print('kept on release', flush=True)")))
        assert wait_ended(pool, ref).exit_code == 0
        released = pool.release(ref)
        assert released.last_status.exit_code == 0 and "kept on release" in released.log_tail
        wait_for(lambda: not fake.live_groups(), what="the container group to be deleted")
        assert pool.status(ref).phase is InfraPhase.MISSING

    def test_keep_after_completion_stops_and_keeps_the_group(self, pool: AciPool, make_job: Any, fake: AciFake) -> None:
        ref = pool.submit(spec(), make_job(python("print('still here', flush=True)"), keep_after_completion=True))
        wait_ended(pool, ref)
        pool.release(ref)
        name = ref.id.rsplit("/", 1)[1]
        group = fake.group(name)
        assert group is not None and group.stopped
        assert any("still here" in line for line in pool.logs(ref))

    def test_transient_503s_are_retried_and_start_the_run_once(
        self, pool: AciPool, make_job: Any, fake: AciFake, tmp_path: Path
    ) -> None:
        marker = tmp_path / "starts"
        fake.fail_next(503, times=2, method="PUT")
        fake.fail_next(503, times=1, method="GET")
        ref = pool.submit(spec(), make_job(python(f"open({str(marker)!r}, 'a').write('x')")))
        assert wait_ended(pool, ref).exit_code == 0
        assert marker.read_text() == "x"
        pool.release(ref)

    def test_azure_down_is_a_retryable_error_within_the_timeout(
        self, pool: AciPool, make_job: Any, fake: AciFake
    ) -> None:
        fake.fail_next(503, times=500)
        with pytest.raises(ProviderUnavailableError, match="ServiceUnavailable") as err:
            pool.submit(spec(), make_job(python("pass"), request_retries=1), timeout=1)
        assert err.value.retryable

    def test_inaccessible_image_is_refused_with_a_reason(self, pool: AciPool, make_job: Any, fake: AciFake) -> None:
        fake.inaccessible_images.add("nope/missing:1")
        with pytest.raises(SubmissionError, match="InaccessibleImage.*image_registry_credentials"):
            pool.submit(spec(), make_job(python("pass"), image="nope/missing:1"))
        assert not fake.live_groups()

    def test_an_image_that_cannot_be_pulled_is_named_and_released(
        self, pool: AciPool, make_job: Any, fake: AciFake
    ) -> None:
        fake.unpullable_images.add("private.azurecr.io/flows:2")
        ref = pool.submit(spec(), make_job(python("pass"), image="private.azurecr.io/flows:2"))
        status = wait_ended(pool, ref)
        assert "could not pull its image 'private.azurecr.io/flows:2'" in (status.reason or "")
        assert "Failed to pull image" in (status.reason or "")
        pool.release(ref)
        wait_for(lambda: not fake.live_groups(), what="the failed group to be deleted")

    def test_cancel_stops_the_group_even_through_a_503(
        self, pool: AciPool, make_job: Any, fake: AciFake, tmp_path: Path
    ) -> None:
        started = tmp_path / "started"
        ref = pool.submit(spec(), make_job(sleeper(started)))
        wait_for(started.exists, what="the run to start")
        fake.fail_next(503, method="POST", path_contains="/stop")  # a POST: retried all the same
        pool.cancel(ref, grace=0)
        assert wait_ended(pool, ref).phase is InfraPhase.EXITED
        pool.release(ref)
        wait_for(lambda: not fake.live_groups(), what="the cancelled group to be deleted")

    def test_credential_and_token_scope_from_settings_and_environment(
        self, make_job: Any, fake: AciFake, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PUSHFLOW_AZURE_CREDENTIAL", "access_token")
        monkeypatch.setenv("PUSHFLOW_AZURE_ACCESS_TOKEN", "token-from-a-proxy")
        pool = AciPool()  # no injected credential: the environment chooses it
        ref = pool.submit(spec(), make_job(python("pass")))
        assert ref.locator["credential"] == "access_token" and "token-from-a-proxy" not in str(ref)
        assert wait_ended(AciPool(), ref).exit_code == 0
        AciPool().release(ref)
        FakeCredential.scopes_asked.clear()
        scoped = make_job(
            python("pass"), credential="tests.emulators.aci:fake_credential", token_scope="api://proxy/.default"
        )
        ref = AciPool().submit(spec(), scoped)
        assert FakeCredential.scopes_asked == ["api://proxy/.default"]
        wait_ended(AciPool(), ref)
        AciPool().release(ref)

    def test_untrusted_certificate_says_to_set_ca_bundle(self, pool: AciPool, make_job: Any) -> None:
        with pytest.raises(ProviderUnavailableError, match="ca_bundle"):
            pool.submit(spec(), make_job(python("pass"), ca_bundle=None, request_retries=0), timeout=0.5)


def test_the_fake_refuses_unknown_members_like_arm(fake: AciFake) -> None:
    body = {"location": "westeurope", "properties": {"osType": "Linux", "containerz": []}}
    status, _, answer = fake.handle(
        "PUT",
        f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerInstance/containerGroups/typo",
        {"api-version": "1"},
        body,
    )
    assert status == 400 and "containerz" in answer["error"]["message"]


def test_default_command_is_pushflow_execute(job_vars: dict[str, Any]) -> None:
    assert parse_job(AciJob, job_vars).command == ["pushflow", "execute"]


def test_missing_and_invalid_variables_are_named() -> None:
    with pytest.raises(JobConfigError) as err:
        parse_job(AciJob, {"image": "x", "base_url": "http://insecure", "credential": "magic"})
    variables = {e["variable"] for e in err.value.errors}
    assert {"subscription_id", "resource_group", "location", "base_url", "credential"} <= variables


# The requirements cache on an Azure Files share ----------------------------------------


def test_the_deps_cache_is_an_azure_files_volume_and_its_key_is_never_read_back(
    pool: AciPool, make_job: Any, fake: AciFake, deps_cache_volume: tuple[dict[str, Any], Path]
) -> None:
    variables, _ = deps_cache_volume
    ref = pool.submit(spec(), make_job(python("pass"), deps_cache=variables))
    body = fake.submissions[-1]["properties"]
    assert body["volumes"] == [
        {
            "name": "pushflow-deps-cache",
            "azureFile": {
                "shareName": "deps",
                "readOnly": False,
                "storageAccountName": "pfcache",
                "storageAccountKey": "account-key",
            },
        }
    ]
    container = body["containers"][0]["properties"]
    assert container["volumeMounts"] == [
        {"name": "pushflow-deps-cache", "mountPath": "/var/cache/pushflow/deps", "readOnly": False}
    ]
    assert {"name": "PUSHFLOW_DEPS_CACHE", "value": "/var/cache/pushflow/deps"} in container["environmentVariables"]
    assert wait_ended(pool, ref).exit_code == 0
    group = fake.group(ref.id.rsplit("/", 1)[1])
    assert group is not None and "account-key" not in str(fake._view(group))
    pool.release(ref)


def test_a_wrong_share_key_fails_the_group(pool: AciPool, make_job: Any, fake: AciFake, deps_cache_volume: Any) -> None:
    variables, _ = deps_cache_volume
    ref = pool.submit(spec(), make_job(python("pass"), deps_cache={**variables, "storage_account_key": "wrong"}))
    status = wait_ended(pool, ref)
    assert "Failed to mount Azure File Volume" in (status.reason or "")
    pool.release(ref)


def test_the_fake_refuses_volumes_arm_would_refuse(fake: AciFake) -> None:
    def put(name: str, volumes: list[dict[str, Any]], mounts: list[dict[str, Any]]) -> str:
        container = {
            "name": "c",
            "properties": {
                "image": "img",
                "resources": {"requests": {"cpu": 1, "memoryInGB": 1}},
                "volumeMounts": mounts,
            },
        }
        body = {
            "location": "westeurope",
            "properties": {"osType": "Linux", "containers": [container], "volumes": volumes},
        }
        path = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerInstance/containerGroups/{name}"
        status, _, answer = fake.handle("PUT", path, {"api-version": "2023-05-01"}, body)
        assert status == 400
        return str(answer["error"]["message"])

    share = {"shareName": "deps", "storageAccountName": "pfcache"}
    assert "shareNam" in put("typo", [{"name": "v", "azureFile": {**share, "shareNam": "x"}}], [])
    assert "does not define" in put("dangling", [{"name": "v", "azureFile": share}], [{"name": "w", "mountPath": "/d"}])
    assert "storageAccountName" in put("half", [{"name": "v", "azureFile": {"shareName": "deps"}}], [])


def test_share_names_are_checked_as_azure_files_names_them(job_vars: dict[str, Any]) -> None:
    cache = {"storage_account_name": "pfcache", "storage_account_key": "k"}
    for bad in ("Deps", "de--ps", "-deps", "d"):
        with pytest.raises(JobConfigError, match="share name"):
            parse_job(AciJob, job_vars, {"deps_cache": {**cache, "share_name": bad}})
