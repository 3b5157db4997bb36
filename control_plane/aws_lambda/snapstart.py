"""Preloading and SnapStart: paying the first invocation's cost during init instead.

By default init imports the handler alone (tens of milliseconds) and each event kind
loads what it needs on first use. With `PUSHFLOW_LAMBDA_PRELOAD=true` init builds the
whole container (settings, services, the engine without connecting, the HTTP app, a
tick's modules) so the first invocation finds everything ready. That pays off where init
is not on a request's path: SnapStart, which snapshots the initialised container when a
version is published and restores copies of it, and provisioned concurrency.

SnapStart hooks come from `snapshot_restore_py`, which Lambda's Python runtimes provide
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html).
Before the snapshot no database connection may stay open (a restored copy would share
its socket); after a restore the copies must not share random state or pooled sockets
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart-uniqueness.html).
"""

from __future__ import annotations

import logging
import os
import random

from control_plane.aws_lambda import invocations
from control_plane.aws_lambda.container import Container

log = logging.getLogger("pushflow.lambda")

PRELOAD = "PUSHFLOW_LAMBDA_PRELOAD"


def at_init() -> None:
    """Run once when the handler is imported (Lambda's init phase)."""
    register_hooks()
    if os.environ.get(PRELOAD, "").strip():  # the value itself is validated by Settings
        preload(invocations.container())


def preload(container: Container) -> None:
    """Build what the first invocation of each kind would build. Opens no connection."""
    if not container.settings.lambda_preload:
        return
    container.services()
    with invocations.event_loop():  # Mangum looks for a loop when it is built
        container.http()
    container.load_routes()  # every route module, not only those a first request reaches
    import control_plane.aws_lambda.commands
    import control_plane.aws_lambda.deliveries
    import control_plane.aws_lambda.ticks  # noqa: F401


def before_snapshot() -> None:
    """No open connection may go into the snapshot."""
    container = invocations.built_container()
    if container is not None:
        container.close()


def after_restore() -> None:
    """Each restored copy draws its own random numbers and opens its own connections.
    (AWS clients keep pooled HTTPS connections too; botocore retries a dropped one.)"""
    random.seed()  # from os.urandom: copies of one snapshot would otherwise draw alike
    container = invocations.built_container()
    if container is not None:
        container.close()


def register_hooks() -> bool:
    """Register the SnapStart hooks where the runtime provides them; False elsewhere."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True
