"""Records which AWS operations pushflow's own code calls, so the control plane's IAM
policy can be exactly what it uses (tests/terraform/test_iam.py).

A botocore `before-call` hook on every client notes `<iam prefix>:<Operation>` and the
pushflow file that made the call (the nearest frame in push_pools/ or control_plane/
outside the boto3 wrappers;
calls the tests make themselves, to set up moto, have none and are ignored). It is
installed in the test process by the `record_aws_calls` fixture, and in the processes a
test starts (a `pushflow server`, the CLI) through `aws_calls_site/sitecustomize.py`,
which Python imports at start-up when that folder is on PYTHONPATH.

Each recorded module's calls must be listed in `aws_calls.json`; a new call fails the
module's teardown with what to add. `PUSHFLOW_UPDATE_AWS_CALLS=1` adds them instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LISTED = Path(__file__).with_name("aws_calls.json")
SITE = Path(__file__).with_name("aws_calls_site")
ENV = "PUSHFLOW_TEST_AWS_CALLS"
OWN_CODE = ("push_pools/", "control_plane/", "runtime/")
# Where pushflow wraps boto3: the caller one frame out is the one that means something.
SEAMS = ("push_pools/ecs/aws.py", "control_plane/aws_lambda/aws.py", "runtime/results.py")
# Operator-run set-up (`pushflow pool provision`); terraform does this instead, with the
# operator's credentials, so it is not the control plane's to do.
PROVISIONING = ("push_pools/ecs/provision.py",)
# Test modules whose AWS traffic is recorded (prefixes): the ECS adapter, the ECS end to
# end, the Lambda edge and the bundle store on S3.
RECORDED_MODULES = (
    "tests.push_pools.test_ecs",
    "tests.e2e.test_ecs_e2e",
    "tests.aws_lambda.",
    "tests.terraform.test_bundle_store_calls",
)

_target: Path | None = None


def install(path: Path) -> None:
    """Record every call made from now on, by clients created from now on, into `path`."""
    global _target
    _target = path
    import botocore.session

    create_client = botocore.session.Session.create_client
    if getattr(create_client, "_records_aws_calls", False):
        return

    def recording_create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        client.meta.events.register("before-call", _record)
        return client

    recording_create_client._records_aws_calls = True  # type: ignore[attr-defined]
    botocore.session.Session.create_client = recording_create_client  # type: ignore[method-assign]


def _record(model: Any, **_: Any) -> None:
    origin = _origin()
    if _target is None or origin is None:
        return
    service = model.service_model
    prefix = service.metadata.get("signingName") or service.endpoint_prefix
    line = json.dumps({"action": f"{prefix}:{model.name}", "origin": origin})
    with open(_target, "a") as out:  # one short append per call: whole lines, even from threads
        out.write(line + "\n")


_ROOT_PREFIX = str(ROOT) + os.sep


def _origin() -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if path.startswith(_ROOT_PREFIX):  # a folder beside the checkout (`<root>-venv`) is not in it
            relative = Path(path).relative_to(ROOT).as_posix()
            if relative.startswith(OWN_CODE) and relative not in SEAMS:
                return relative
        frame = frame.f_back  # type: ignore[assignment]
    return None


def read(path: Path) -> dict[str, dict[str, list[str]]]:
    """{"control_plane" | "provisioning" | "runtime": {action: [origins]}} from a recording
    (runtime: calls the flow runtime makes in a run's container, with the run's role)."""
    found: dict[str, dict[str, set[str]]] = {"control_plane": {}, "provisioning": {}, "runtime": {}}
    for line in path.read_text().splitlines() if path.exists() else []:
        call = json.loads(line)
        origin = call["origin"]
        role = "control_plane"
        if origin in PROVISIONING:
            role = "provisioning"
        elif origin.startswith("runtime/"):
            role = "runtime"
        found[role].setdefault(call["action"], set()).add(call["origin"])
    return {role: {a: sorted(o) for a, o in sorted(calls.items())} for role, calls in found.items()}


def listed() -> dict[str, dict[str, list[str]]]:
    return dict(json.loads(LISTED.read_text()))


def _merge(old: dict[str, dict[str, list[str]]], new: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for role in ("control_plane", "provisioning", "runtime"):
        calls = {a: set(o) for a, o in old.get(role, {}).items()}
        for action, origins in new.get(role, {}).items():
            calls.setdefault(action, set()).update(origins)
        merged[role] = {a: sorted(o) for a, o in sorted(calls.items())}
    return merged


@contextlib.contextmanager
def recording(module: str, scratch: Callable[[], Path]) -> Iterator[None]:
    """Record the AWS calls made while a test module runs, here and in its subprocesses;
    afterwards, fail unless `aws_calls.json` lists every one."""
    if not module.startswith(RECORDED_MODULES):
        yield
        return
    path = scratch() / "aws-calls.jsonl"
    saved = {k: os.environ.get(k) for k in (ENV, "PYTHONPATH")}
    os.environ[ENV] = str(path)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SITE), str(ROOT), saved["PYTHONPATH"]]))
    install(path)
    try:
        yield
    finally:
        global _target
        _target = None
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    check(read(path))


def check(recorded: dict[str, dict[str, list[str]]]) -> None:
    known = listed()
    if os.environ.get("PUSHFLOW_UPDATE_AWS_CALLS") == "1":
        LISTED.write_text(json.dumps(_merge(known, recorded), indent=2) + "\n")
        return
    new = [
        f"{role}: {action} (from {', '.join(origins)})"
        for role, calls in recorded.items()
        for action, origins in calls.items()
        if action not in known.get(role, {})
    ]
    assert not new, (
        "pushflow calls AWS operations tests/terraform/aws_calls.json does not list: "
        + "; ".join(new)
        + ". Rerun with PUSHFLOW_UPDATE_AWS_CALLS=1 to add them, then grant the control plane's ones in "
        "terraform/modules/control-plane-aws/iam.tf"
    )
