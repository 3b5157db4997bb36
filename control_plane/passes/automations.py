"""The automation passes (control_plane/automations): evaluate triggers over the event
stream, then run the actions of what fired."""

from __future__ import annotations

import logging
import time

from control_plane.automations.delivery import run_due_actions
from control_plane.automations.evaluate import evaluate_automations
from control_plane.services import Services

log = logging.getLogger("pushflow.automations")

__all__ = ["automations_on_trigger", "evaluate_automations", "run_due_actions"]


def automations_on_trigger(services: Services) -> None:
    """Where no loop runs (Lambda, `run_loops` off) and the API starts work itself
    (`dispatch_on_trigger`), an accepted event is evaluated in the request that brought
    it, so a webhook's run starts now rather than at the next tick. Never fails the request:
    what is not done here the next tick does."""
    settings = services.settings
    if settings.run_loops or not settings.dispatch_on_trigger:
        return
    try:
        if evaluate_automations(services, deadline=time.monotonic() + 5):
            run_due_actions(services, deadline=time.monotonic() + 10)
    except Exception:
        log.exception("evaluating automations on trigger failed; the next tick will")
