"""The API keeps the contract its OpenAPI document states: schemathesis drives a real
server (`pushflow server start`, SQLite) per operation, and statefully along the
document's links (pool → deployment → run → state, logs, cancel; blocks, keys,
webhooks, automations), with few examples so it stays fast. Every check schemathesis
has is on, for every operation:

- no server error; a documented status code, content type, headers and body schema;
- a schema-valid request is accepted, a schema-violating one refused (strict JSON types,
  bounds, enums, unknown fields where the document forbids them);
- an `Allow` header naming every method of the path on 405; 401 without the key;
- statefully: a deleted thing is gone (`use_after_free`), a created one can be read.

Grammars JSON Schema has no keyword for are named by `format` in the document (`cron`,
`rrule`, `cursor`) and generated from their definitions (contract_formats.py), as
schemathesis documents ("extend generators to match runtime rules").
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.control_plane import contract_formats  # noqa: F401 - registers cron, rrule, cursor
from tests.helpers import LiveServer

# One test item drives all 66 operations (a few hundred requests): about a minute on an
# idle machine, several when the machine is shared.
pytestmark = pytest.mark.timeout(600)
AUTH = {"Authorization": "Bearer test-admin-key"}
FAST = settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"PUSHFLOW_RUN_LOOPS": "false", "PUSHFLOW_DISPATCH_ON_TRIGGER": "false"}
    server = LiveServer(Path(tmp_path_factory.mktemp("contract")) / "home", extra_env=env).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api_schema(live: LiveServer) -> Any:
    # /hooks/{slug} is called by senders with a signature, not a key: its own tests cover it.
    # The first request builds the document (every pool type's job schema): give it time.
    document = schemathesis.openapi.from_url(f"{live.url}/openapi.json", timeout=60)
    return document.exclude(path_regex="^/hooks")


schema = schemathesis.pytest.from_fixture("api_schema")

# Refusals of schema-valid requests that no JSON Schema can state: a relation between the
# path and the body, or to what the store holds (the pool or deployment named). Each is
# tested by name elsewhere; every other operation accepts all valid data.
RELATIONAL = {
    "PUT /api/bundles/{sha256}": "the body must hash to the sha256 in the path (test_api_bundles)",
    "POST /api/deployments": "job_variables, merged over the named pool's defaults, must fit that pool's type;"
    " parameters must fit parameter_schema (test_api_deployments)",
    "POST /api/deployments/{deployment_id}/runs": "parameters must fit the deployment's parameter_schema,"
    " job_variables its pool's type (test_api_flow_runs)",
    "PATCH /api/pools/{name}": "defaults must fit the stored pool's type (test_api_management)",
    "PUT /api/blocks/{type}/{name}": "data must fit the block type the path names (test_blocks)",
    "POST /api/bundles/{sha256}/upload": "size past PUSHFLOW_BUNDLE_MAX_BYTES, a server setting, is 413",
}


def _checks(case: Any) -> dict[str, Any]:
    return {"excluded_checks": [positive_data_acceptance]} if case.operation.label in RELATIONAL else {}


@schema.parametrize()
@FAST
def test_every_operation_keeps_its_contract(case: Any) -> None:
    case.call_and_validate(headers=AUTH, **_checks(case))


def test_sequences_of_calls_along_the_links_keep_the_contract(live: LiveServer) -> None:
    # schemathesis's own runner: its stateful phase copes with a store that changes under
    # it (Hypothesis' state machines, replayed against one live server, see another store
    # and give up as "flaky"). Every check, the same format generators; schemathesis 4.32
    # applies per-operation settings only outside the stateful phase, so the RELATIONAL
    # refusals there are exempted for the whole phase (a gap, see docs/api.md), by flag: this
    # schemathesis ignored the same setting from a config file.
    command = [str(Path(sys.executable).with_name("schemathesis")), "--no-color", "run"]
    command += [
        f"{live.url}/openapi.json",
        "--phases",
        "stateful",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "-H",
        f"Authorization: {AUTH['Authorization']}",
    ]
    command += ["--exclude-path-regex", "^/hooks", "-n", "20", "--seed", "1", "-w", "1", "--request-timeout", "30"]
    command += ["--wait-for-schema", "60"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.control_plane.contract_formats"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=500, check=False)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    # The links led somewhere: scenarios ran and followed links the document declares.
    assert "Scenarios:" in done.stdout and "API Links:" in done.stdout, done.stdout[-3000:]


def test_the_document_links_creates_to_what_acts_on_them(live: LiveServer) -> None:
    document = live.client().get("/api/openapi.json").json()
    pools = document["paths"]["/api/pools"]["post"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in pools.values()} >= {
        "read_pool_api_pools__name__get",
        "delete_pool_api_pools__name__delete",
        "upsert_deployment_api_deployments_post",
    }
    assert pools["upsert_deployment"]["requestBody"] == {"pool": "$response.body#/name"}
    run = document["paths"]["/api/deployments/{deployment_id}/runs"]["post"]["responses"]["201"]["links"]
    assert run["cancel_flow_run"]["parameters"] == {"flow_run_id": "$response.body#/id"}
