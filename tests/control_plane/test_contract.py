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
`rrule`, `cursor`) and generated here from their definitions, as schemathesis documents
("extend generators to match runtime rules"): a cron expression per field ranges, an RFC
5545 rule, and a page cursor as the server encodes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from control_plane.models import FlowRun
from control_plane.run_listing import RunOrder, encode_cursor
from tests.helpers import LiveServer

# One test item drives all 66 operations (a few hundred requests): about a minute on an
# idle machine, several when the machine is shared.
pytestmark = pytest.mark.timeout(600)
AUTH = {"Authorization": "Bearer test-admin-key"}
FAST = settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
# Stateful runs share one server whose store grows: a replayed sequence meets another
# store, so Hypothesis only generates (no replay from its database, no shrinking).
STATEFUL = settings(
    max_examples=20,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.generate],
    database=None,
)


def _cron_field(low: int, high: int) -> st.SearchStrategy[str]:
    number = st.integers(low, high).map(str)
    span = st.tuples(st.integers(low, high), st.integers(low, high)).map(lambda ab: f"{min(ab)}-{max(ab)}")
    step = st.tuples(st.sampled_from(["*"]), st.integers(1, high - low + 1)).map(lambda s: f"{s[0]}/{s[1]}")
    return st.one_of(st.just("*"), number, span, step)


CRON = st.tuples(_cron_field(0, 59), _cron_field(0, 23), _cron_field(1, 28), _cron_field(1, 12), _cron_field(0, 6)).map(
    " ".join
)
RRULE = st.builds(
    lambda freq, interval, hour: f"FREQ={freq};INTERVAL={interval};BYHOUR={hour}",
    st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]),
    st.integers(1, 30),
    st.integers(0, 23),
)
CURSOR = st.builds(
    lambda at, run_id, order: encode_cursor(
        FlowRun(
            id=run_id,
            name="r",
            flow_name="f",
            state_type="SCHEDULED",
            state_name="Scheduled",
            state_timestamp=at,
            created=at,
            expected_start_time=at,
        ),
        order,
    ),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.uuids().map(str),
    st.sampled_from(list(RunOrder)),
)
schemathesis.openapi.format("cron", CRON)
schemathesis.openapi.format("rrule", RRULE)
schemathesis.openapi.format("cursor", CURSOR)


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
    return schemathesis.openapi.from_url(f"{live.url}/openapi.json").exclude(path_regex="^/hooks")


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
}


def _checks(case: Any) -> dict[str, Any]:
    return {"excluded_checks": [positive_data_acceptance]} if case.operation.label in RELATIONAL else {}


@schema.parametrize()
@FAST
def test_every_operation_keeps_its_contract(case: Any) -> None:
    case.call_and_validate(headers=AUTH, **_checks(case))


def test_sequences_of_calls_along_the_links_keep_the_contract(api_schema: Any) -> None:
    answered: list[tuple[str, int]] = []

    class Client(api_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": AUTH}

        def after_call(self, response: Any, case: Any) -> None:
            answered.append((case.operation.label, response.status_code))

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, headers=AUTH, transport_kwargs=kwargs, **_checks(case))

    Client.run(settings=STATEFUL)
    # The links led somewhere: an operation on a path parameter acted on a thing a create made.
    assert any(status < 300 and "{" in label for label, status in answered), answered


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
