"""The automation passes (control_plane/automations): evaluate triggers over the event
stream, then run the actions of what fired."""

from __future__ import annotations

from control_plane.automations.delivery import run_due_actions
from control_plane.automations.evaluate import evaluate_automations

__all__ = ["evaluate_automations", "run_due_actions"]
