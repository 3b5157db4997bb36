"""Custom events from flows: `from pushflow.events import emit_event` (as in Prefect)."""

from runtime.events import emit_event

__all__ = ["emit_event"]
