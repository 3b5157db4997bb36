"""The aci pool, through the real azure-mgmt-containerinstance client, against the ARM fake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from push_pools.aci import AciJob, AciPool
from push_pools.aci.connection import Endpoint
from push_pools.base import InfraPhase, InfraRef, PoolContext, parse_job
from push_pools.errors import JobConfigError, ProviderUnavailableError, SubmissionError
from tests.emulators.aci import AciFake, FakeCredential
from tests.helpers import wait_for
from tests.push_pools.contract import PushPoolContract, python, spec, wait_ended
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
def pool(tmp_path: Path, fake: AciFake) -> AciPool:
    endpoint = Endpoint(base_url=fake.url, ca_bundle=fake.ca_bundle, polling_interval=0.05)
    return AciPool(
        PoolContext(state_dir=tmp_path / "state"),
        credential=FakeCredential(),
        endpoint=endpoint,
        cleanup_interval=0.1,
    )


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
def unknown_ref(fake: AciFake) -> InfraRef:
    return InfraRef(
        provider="aci",
        id=f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
        "Microsoft.ContainerInstance/containerGroups/pushflow-never-made",
    )


class TestAciPool(PushPoolContract):
    def test_group_is_named_from_the_run_and_created_once(self, pool: AciPool, make_job: Any, fake: AciFake) -> None:
        run = spec()
        ref = pool.submit(run, make_job(python("pass")))
        assert ref.id.endswith(f"/containerGroups/pushflow-{run.run_id}")
        assert pool.submit(run, make_job(python("pass"))).id == ref.id
        assert len(fake.submissions) == 1
        assert (
            "GET",
            f"/subscriptions/{SUB}/providers/Microsoft.ContainerInstance/locations/westeurope/operations/",
        ) in [(m, p.rsplit("/", 1)[0] + "/") for m, p in fake.requests]

    def test_run_token_is_sent_as_a_secure_value_only(self, pool: AciPool, make_job: Any, fake: AciFake) -> None:
        wait_ended(
            pool,
            pool.submit(spec(), make_job(python("pass"), secure_env={"DB_PASSWORD": "hunter2"})),
        )
        env = {
            e["name"]: e
            for e in fake.submissions[0]["properties"]["containers"][0]["properties"]["environmentVariables"]
        }
        assert env["PUSHFLOW_RUN_TOKEN"] == {
            "name": "PUSHFLOW_RUN_TOKEN",
            "secureValue": "pfr_secret-for-contract",
        }
        assert env["DB_PASSWORD"] == {"name": "DB_PASSWORD", "secureValue": "hunter2"}
        assert "value" in env["PUSHFLOW_FLOW_RUN_ID"]

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
        wait_ended(pool, pool.submit(spec(), job))
        body = fake.submissions[0]
        props = body["properties"]
        assert props["restartPolicy"] == "Never" and props["osType"] == "Linux"
        assert props["containers"][0]["properties"]["resources"]["requests"] == {
            "cpu": 2.0,
            "memoryInGB": 4.0,
        }
        assert body["identity"] == {
            "type": "UserAssigned",
            "userAssignedIdentities": {identity: {}},
        }
        assert props["subnetIds"] == [{"id": subnet}]
        assert props["dnsConfig"] == {"nameServers": ["10.0.0.4"], "searchDomains": "corp.local"}
        assert props["imageRegistryCredentials"] == [{"server": "example.azurecr.io", "username": "u", "password": "p"}]
        assert body["tags"] == {"pushflow.flow": "contract"}

    def test_default_command_is_pushflow_execute(self, job_vars: dict[str, Any]) -> None:
        assert parse_job(AciJob, job_vars).command == ["pushflow", "execute"]

    def test_missing_and_invalid_variables_are_named(self) -> None:
        with pytest.raises(JobConfigError) as err:
            parse_job(AciJob, {"image": "x", "base_url": "http://insecure", "credential": "magic"})
        variables = {e["variable"] for e in err.value.errors}
        assert {
            "subscription_id",
            "resource_group",
            "location",
            "base_url",
            "credential",
        } <= variables

    def test_group_is_deleted_after_the_run_ends_but_its_logs_remain(
        self, pool: AciPool, make_job: Any, fake: AciFake
    ) -> None:
        ref = pool.submit(spec(), make_job(python("print('kept after delete', flush=True)")))
        assert wait_ended(pool, ref).exit_code == 0
        wait_for(lambda: not fake.groups, what="the container group to be deleted")
        assert pool.status(ref).exit_code == 0
        assert any("kept after delete" in line for line in pool.logs(ref))

    def test_group_nobody_asks_about_is_still_deleted(self, pool: AciPool, make_job: Any, fake: AciFake) -> None:
        # The run reported its own final state, so the reconciler never asks again.
        ref = pool.submit(spec(), make_job(python("print('done', flush=True)")))
        wait_for(lambda: not fake.groups, what="the ended group to be deleted without being asked")
        assert pool.status(ref).exit_code == 0

    def test_keep_after_completion_stops_and_keeps_the_group(self, pool: AciPool, make_job: Any, fake: AciFake) -> None:
        ref = pool.submit(spec(), make_job(python("print('still here', flush=True)"), keep_after_completion=True))
        wait_ended(pool, ref)
        name = ref.id.rsplit("/", 1)[1]
        assert wait_for(lambda: (g := fake.group(name)) and g.stopped, what="the group to be stopped")
        assert any("still here" in line for line in pool.logs(ref))

    def test_transient_503s_are_retried(self, pool: AciPool, make_job: Any, fake: AciFake) -> None:
        fake.fail_next(503, times=2, method="PUT")
        fake.fail_next(503, times=1, path_contains="/operations/")
        status = wait_ended(pool, pool.submit(spec(), make_job(python("pass"))))
        assert status.exit_code == 0
        assert [s for _, _, s in fake.injected] == [503, 503, 503]

    def test_azure_down_after_retries_is_a_retryable_error(self, pool: AciPool, make_job: Any, fake: AciFake) -> None:
        fake.fail_next(503, times=50)
        with pytest.raises(ProviderUnavailableError, match="ServiceUnavailable") as err:
            pool.submit(spec(), make_job(python("pass"), request_retries=1))
        assert err.value.retryable

    def test_inaccessible_image_is_refused_with_a_reason(self, pool: AciPool, make_job: Any, fake: AciFake) -> None:
        fake.inaccessible_images.add("nope/missing:1")
        with pytest.raises(SubmissionError, match="InaccessibleImage.*image_registry_credentials"):
            pool.submit(spec(), make_job(python("pass"), image="nope/missing:1"))

    def test_image_pull_failure_while_provisioning_is_explained_and_cleaned_up(
        self, pool: AciPool, make_job: Any, fake: AciFake
    ) -> None:
        fake.unpullable_images.add("private.azurecr.io/flows:2")
        with pytest.raises(SubmissionError, match="Failed to pull image 'private.azurecr.io/flows:2'"):
            pool.submit(spec(), make_job(python("pass"), image="private.azurecr.io/flows:2"))
        wait_for(lambda: not fake.groups, what="the failed group to be deleted")

    def test_cancel_deletes_the_group(self, pool: AciPool, make_job: Any, fake: AciFake, tmp_path: Path) -> None:
        started = tmp_path / "started"
        ref = pool.submit(
            spec(),
            make_job(python(f"import time; open({str(started)!r}, 'w').close(); time.sleep(120)")),
        )
        wait_for(started.exists, what="the run to start")
        fake.fail_next(503, method="POST", path_contains="/stop")  # a POST: retried all the same
        pool.cancel(ref)
        status = pool.status(ref)
        assert status.phase is InfraPhase.EXITED and "cancel" in (status.reason or "")
        wait_for(lambda: not fake.groups, what="the cancelled group to be deleted")

    def test_status_survives_a_new_adapter(self, make_job: Any, fake: AciFake, tmp_path: Path) -> None:
        context = PoolContext(state_dir=tmp_path / "shared-state")
        ref = AciPool(context, credential=FakeCredential()).submit(spec(), make_job(python("raise SystemExit(4)")))
        assert wait_ended(AciPool(context, credential=FakeCredential()), ref).exit_code == 4

    def test_untrusted_certificate_says_to_set_ca_bundle(self, pool: AciPool, make_job: Any) -> None:
        with pytest.raises(ProviderUnavailableError, match="ca_bundle"):
            pool.submit(spec(), make_job(python("pass"), ca_bundle=None, request_retries=0))
