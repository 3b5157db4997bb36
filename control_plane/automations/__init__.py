"""Automations: a trigger over the event stream, and the actions it starts.

specs.py (what users write) → triggers.py (pure evaluation) → evaluate.py (the pass over
the stream, recording firings) → delivery.py (the pass running their actions, with
actions.py doing each kind). Tables in models.py.
"""
