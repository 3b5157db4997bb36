"""Fixtures shared by the control-plane tests."""

from tests.control_plane.orchestration import orch

__all__ = ["orch"]
