"""A flow run's persisted result: written to result storage when the flow asks
(`@flow(persist_result=True)`), recorded with the control plane for a deployed run (inline
when it is JSON), and read back by `read_flow_run_result` / `run_deployment(...).result()`."""

from __future__ import annotations

import json
from typing import Any

from runtime.results import MISSING, read_record, serializer_from, storage_from, storage_url, write_record
from runtime.states import State

MAX_INLINE_BYTES = 256 * 1024


def persist_flow_result(flow: Any, ctx: Any, state: State) -> None:
    storage = storage_from(flow.result_storage or ctx.result_storage)
    serializer = serializer_from(flow.result_serializer)
    state.result_key = f"results/flow-runs/{ctx.flow_run_id}"
    write_record(storage, state.result_key, state.data, serializer)


def report_flow_result(client: Any, flow_run_id: str, flow: Any, state: State) -> None:
    """Tell the control plane where the result is, and the value itself when it is JSON."""
    record: dict[str, Any] = {
        "serializer": serializer_from(flow.result_serializer).name,
        "inline": False,
        "storage": storage_url(storage_from(flow.result_storage)),
        "key": state.result_key,
    }
    try:
        encoded = json.dumps(state.data)
    except (TypeError, ValueError):
        encoded = None
    if encoded is not None and len(encoded) <= MAX_INLINE_BYTES:
        record.update(inline=True, value=state.data)
    client.record_flow_run_result(flow_run_id, record)


def read_flow_run_result(flow_run_id: str, client: Any = None) -> Any:
    """The return value of deployed run `flow_run_id`: inline from the control plane, else
    from the result storage the runtime wrote it to (which this process must reach)."""
    from runtime.client import PushflowClient

    api = client or PushflowClient()
    try:
        record = api.read_flow_run_result(flow_run_id)
    finally:
        if client is None:
            api.close()
    if record["inline"]:
        return record["value"]
    value = read_record(storage_from(record["storage"]), record["key"])
    if value is MISSING:
        raise KeyError(f"the result of flow run {flow_run_id} is not in {record['storage']} under {record['key']!r}")
    return value
