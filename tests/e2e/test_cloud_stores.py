"""Bundles and results in the cloud stores, end to end: a server whose bundle store is
S3 (moto), Google Cloud Storage (gcp-storage-emulator behind a front that checks tokens
and V4 signatures) or Azure Blob Storage (Azurite, which checks SAS signatures); a 20 MB
bundle deployed to it through a server whose API takes bodies of at most 5 MiB (so it
went straight into the store through a signed PUT), the project folder deleted, the run
fetching the bundle through a signed URL and persisting its result to the same store,
read back afterwards. moto does not check presigned-URL signatures: for S3 only the
shape of the flow is proven, not the signature."""

from __future__ import annotations

import hashlib
import os
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.client import PushflowClient
from runtime.flow_results import read_flow_run_result
from tests.e2e.conftest import cli
from tests.emulators.storage import azurite, moto_s3, signing_gcs_emulator
from tests.helpers import LiveServer, final, trigger

FLOW = textwrap.dedent(
    """
    import os

    from runtime import flow


    @flow(persist_result=True, log_prints=True)
    def stored(n: int = 3) -> set:
        print(f"shipped {os.path.getsize('big.bin')} bytes")
        return {i * i for i in range(n)}  # not JSON: only the store has it
    """
)


API_BODY_LIMIT = 5 * 1024 * 1024
BIG = 20 * 1024 * 1024


@pytest.fixture(params=["s3", "gs", "az"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LiveServer, str, dict[str, str]]]:
    scheme = request.param
    emulators = {"s3": lambda: moto_s3("pushflow"), "gs": lambda: signing_gcs_emulator("pushflow", tmp_path)}
    with emulators.get(scheme, lambda: azurite(tmp_path))() as env, pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)  # this process reads results back from the store too
        url = f"{scheme}://pushflow/pf"
        limits = {"PUSHFLOW_BUNDLE_STORE": url, "PUSHFLOW_MAX_REQUEST_BYTES": str(API_BODY_LIMIT)}
        live = LiveServer(tmp_path / "home", extra_env={**env, **limits}).start()
        try:
            yield live, url, env
        finally:
            live.stop()


def test_a_bundle_and_its_result_live_in_the_cloud_store(
    server: tuple[LiveServer, str, dict[str, str]], tmp_path: Path
) -> None:
    live, url, env = server
    # A process run sees only what its job sets, not the server's environment: hand it the store.
    store_env = [arg for key, value in env.items() for arg in ("--set", f"env.{key}={value}")]
    created = cli(
        live, "pool", "create", "local", "--type", "process", "--set", f"env.PUSHFLOW_RESULT_STORAGE={url}", *store_env
    )
    assert created.returncode == 0, created.stderr
    project = tmp_path / "project"
    project.mkdir()
    (project / "flows.py").write_text(FLOW)
    (project / "big.bin").write_bytes(os.urandom(BIG))  # does not compress: a 20 MB bundle
    deployed = cli(
        live, "deploy", "flows.py:stored", "--name", "cloud", "--pool", "local", "--source", "bundle", cwd=project
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "to the bundle store" in deployed.stdout  # a signed PUT (S3, GCS V4, Azure SAS)
    sha256 = hashlib.sha256((project / "big.bin").read_bytes()).hexdigest()
    refused = live.client().put(f"/api/bundles/{sha256}", content=b"x" * (API_BODY_LIMIT + 1))
    assert refused.status_code == 413 and "straight to the bundle store" in refused.text  # the API could not take it
    shutil.rmtree(project)
    assert not (live.home / "bundles").exists()  # nothing in the server's folder

    api = live.client()
    deployment = api.get("/api/deployments/by-name/stored/cloud").json()
    done = final(api, trigger(api, deployment, n=4), timeout=90)
    assert done["state"]["type"] == "COMPLETED", done["state"]
    logs = "\n".join(e["message"] for e in api.get(f"/api/flow-runs/{done['id']}/logs").json())
    assert f"shipped {BIG} bytes" in logs
    with PushflowClient(live.url, live.api_key) as client:
        assert read_flow_run_result(done["id"], client) == {0, 1, 4, 9}
    # Every store signs download URLs here: the runtime fetched the bundle from the store.
    fetched = api.get(f"/api/flow-runs/{done['id']}/bundle")
    assert fetched.status_code == 307 and fetched.headers["location"].startswith("http://127.0.0.1")
