"""Flows (Prefect's `prefect.flows`)."""

from runtime.flows import FlowFunction, flow
from runtime.graph import Edge, Flow

__all__ = ["Edge", "Flow", "FlowFunction", "flow"]
