"""`Block.load("type/name")`: a block's fields inside a run.

    from pushflow.blocks import Block

    creds = Block.load("aws-credentials/prod")
    creds["aws_secret_access_key"]

It asks the control plane with the run's own token (PUSHFLOW_FLOW_RUN_ID,
PUSHFLOW_RUN_TOKEN, PUSHFLOW_API_URL, which every run gets): only a run can read a
block's secrets in clear. Nothing is imported until `load` is called.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


class Block(Mapping[str, Any]):
    """A block's fields, read-only."""

    def __init__(self, ref: str, data: dict[str, Any]) -> None:
        self.ref = ref
        self._data = data

    @classmethod
    def load(cls, ref: str) -> Block:
        block_type, sep, name = ref.partition("/")
        if not sep or not block_type or not name:
            raise ValueError(f"{ref!r}: name a block as 'type/name', e.g. 'aws-credentials/prod'")
        run_id = os.environ.get("PUSHFLOW_FLOW_RUN_ID")
        token = os.environ.get("PUSHFLOW_RUN_TOKEN")
        if not run_id or not token:
            raise RuntimeError(
                "Block.load works inside a deployed run (it needs PUSHFLOW_FLOW_RUN_ID and PUSHFLOW_RUN_TOKEN)"
            )
        from runtime.client import PushflowClient

        with PushflowClient(api_key=token) as client:
            answer = client.request("GET", f"/flow-runs/{run_id}/blocks/{block_type}/{name}")
        return cls(ref, dict(answer["data"]))

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Any:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:  # never the values: a block holds secrets
        return f"Block({self.ref!r}, fields={sorted(self._data)})"
