"""Generators for the grammars the OpenAPI document names by `format` (JSON Schema has
no keyword for them): a cron expression (per-field ranges), an RFC 5545 rule, and a page
cursor as the server encodes it. Imported by the contract test, and by the schemathesis
CLI it runs (SCHEMATHESIS_HOOKS=tests.control_plane.contract_formats)."""

from __future__ import annotations

from datetime import UTC, datetime

import schemathesis
from hypothesis import strategies as st

from control_plane.models import FlowRun
from control_plane.run_listing import RunOrder, encode_cursor


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
